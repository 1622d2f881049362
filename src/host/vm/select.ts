/**
 * Chooses the VMM and accelerator from the config: `backend = "auto"` prefers Firecracker where it can
 * really run (binary + usable KVM), else QEMU; QEMU's accel is chosen honestly (accel.ts).
 */
import type { ConfigValues } from '../config/schema.js';
import type { GhostPaths } from '../store/paths.js';
import { chooseAccel } from './accel.js';
import type { Accel, VmDriverFactory } from './driver.js';
import { VmBackendUnavailableError } from './errors.js';
import { QemuFactory } from './qemu/factory.js';

export interface BackendChoice {
  factory: VmDriverFactory;
  accel: Accel;
  notice?: string;
}

export async function selectBackend(config: ConfigValues, paths: GhostPaths): Promise<BackendChoice> {
  const qemu = new QemuFactory(config['qemu.bin']);
  const probe = await qemu.probe();
  if (!probe.ok) throw new VmBackendUnavailableError(`QEMU cannot run here: ${probe.reason}. ${probe.remedy}`);
  const accel = await chooseAccel(config.accel, paths.stateDir, config['qemu.bin']);
  return { factory: qemu, accel: accel.accel, ...(accel.notice ? { notice: accel.notice } : {}) };
}
