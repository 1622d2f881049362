/**
 * What QEMU's snapshot modules (snapshot.ts, warm.ts) need of the factory: make a driver with the extra
 * restore/template options, and the QEMU version that is part of a snapshot's identity. QemuFactory
 * implements it; the snapshot modules depend on this interface rather than on the factory, which
 * itself composes them.
 */
import type { Accel, InstanceDir, VmSpec } from '../driver.js';
import type { QemuDriver, QemuDriverOptions } from './driver.js';

export type QemuCreateExtras = Pick<
  QemuDriverOptions,
  'restore' | 'restoreVerified' | 'templateMemoryPath' | 'backingFormat' | 'overlayPath' | 'reuseOverlay' | 'onMark'
>;

export interface QemuHost {
  create(spec: VmSpec, dir: InstanceDir, accel: Accel, extra?: QemuCreateExtras): QemuDriver;
  /** `QEMU emulator version 7.2.19 (...)`: migration streams are version-bound. */
  version(): Promise<string>;
}
