/**
 * The pool's one fact about what it holds: the shape of the VM a run would start now. A pooled clone is
 * used only when the shape of the run asking is exactly the pool's: same backend and everything the warm
 * snapshot's key covers (image id, QEMU version, vCPUs, memory, accel, CPU model, network profile).
 */
import type { LoadedConfig } from '../config/load.js';
import type { CachedImage } from '../image/cache.js';
import { netProfile } from '../../shared/guest-net.js';
import type { GhostPaths } from '../store/paths.js';
import type { Accel, VmSpec } from '../vm/driver.js';
import { selectBackend, type BackendChoice } from '../vm/select.js';
import { hasWarmSnapshots, type WarmSnapshots } from '../vm/warm-snapshots.js';

export interface PoolShape {
  /** Compared as a whole: `<backend>:<warm snapshot key>`. */
  readonly id: string;
  readonly image: CachedImage;
  readonly choice: BackendChoice;
  readonly accel: Accel;
  readonly spec: VmSpec;
  readonly warm: WarmSnapshots;
}

/** The VM spec a run of this config would start (session.ts builds the same from the same values). */
export function specFor(config: LoadedConfig, image: CachedImage, name: string): VmSpec {
  return {
    name,
    vcpus: config.values.vcpus,
    memoryMiB: config.values.memory,
    kernelPath: image.kernel,
    initrdPath: image.initrd,
    rootfsPath: image.rootfs,
    net: netProfile(config.values['net.mode'], config.values['net.host_access']),
  };
}

/**
 * The shape for this config and image, or undefined when no pool can hold it: only QEMU's clones can be
 * handed from one process to another (keeper.ts), so a Firecracker run is never pooled.
 */
export async function poolShape(
  config: LoadedConfig,
  paths: GhostPaths,
  image: CachedImage,
): Promise<PoolShape | undefined> {
  const choice = await selectBackend(config.values, paths);
  if (choice.factory.name !== 'qemu' || !hasWarmSnapshots(choice.factory)) return undefined;
  const warm = choice.factory.warmSnapshots();
  const spec = specFor(config, image, 'pool');
  const key = await warm.key(image, spec, choice.accel);
  return { id: `${choice.factory.name}:${key.id}`, image, choice, accel: choice.accel, spec, warm };
}
