/**
 * Kept disks as a backend capability (`run NAME --keep`): a VM whose writable layer lives outside its
 * per-VM dir and outlives it, so the next `run NAME` boots from it again. A backend without it must be
 * refused for a kept VM before anything boots: booting it from a throw-away layer instead would lose
 * whatever the user writes while `ps` says the disk is kept.
 */
import type { Accel, InstanceDir, VmDriver, VmDriverFactory, VmSpec } from './driver.js';

export interface KeptDisk {
  /** Where the writable layer lives (in the state dir). */
  readonly path: string;
  /** It holds the layer of an earlier run: boot from it as it is. */
  readonly exists: boolean;
}

export interface KeptDiskFactory {
  createOnKeptDisk(spec: VmSpec, dir: InstanceDir, accel: Accel, disk: KeptDisk): VmDriver;
}

export function canKeepDisks(factory: VmDriverFactory): factory is VmDriverFactory & KeptDiskFactory {
  return typeof (factory as Partial<KeptDiskFactory>).createOnKeptDisk === 'function';
}
