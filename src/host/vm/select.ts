/**
 * Chooses the VMM and accelerator from the config: `backend = "auto"` prefers Firecracker where it can
 * really run (binary, version, usable KVM), else QEMU; QEMU's accel is chosen honestly (accel.ts).
 * An explicitly requested backend that cannot run fails fast with the reason and the remedy.
 */
import type { ConfigValues } from '../config/schema.js';
import type { GhostPaths } from '../store/paths.js';
import { chooseAccel } from './accel.js';
import type { Accel, VmDriverFactory } from './driver.js';
import { VmBackendUnavailableError } from './errors.js';
import type { FirecrackerDriverFactory } from './firecracker/index.js';
import { findExecutable } from './which.js';
import { QemuFactory } from './qemu/factory.js';
import { NetUnavailableError } from '../net/errors.js';
import { findPasst } from '../net/passt.js';

export interface BackendChoice {
  factory: VmDriverFactory;
  accel: Accel;
  notice?: string;
}

/** Loaded on demand: QEMU-only starts skip Firecracker's modules (~0.1 s). */
export async function firecrackerFactory(config: ConfigValues): Promise<FirecrackerDriverFactory> {
  const { FirecrackerDriverFactory } = await import('./firecracker/index.js');
  const jailer = config['firecracker.jailer']
    ? {
        bin: findExecutable(config['firecracker.jailer_bin']) ?? config['firecracker.jailer_bin'],
        uid: config['firecracker.jailer_uid'],
        gid: config['firecracker.jailer_gid'],
        chrootBase: config['firecracker.jailer_chroot_base'],
      }
    : undefined;
  return new FirecrackerDriverFactory({
    bin: config['firecracker.bin'],
    kvmCheck: config['firecracker.kvm_check'],
    ...(jailer ? { jailer } : {}),
  });
}

/** What `--net` on Firecracker lacks (doctor says it too). */
export const FIRECRACKER_NET_MISSING =
  'the Firecracker backend has no guest network yet: it needs a TAP device inside a user + network namespace with passt/pasta as its NAT, which VirtualGhost does not set up yet; use --backend qemu (or net.mode = "none")';

/**
 * Firecracker has no shared file system: for a throw-away `run` or `exec` a mount is a copy made at start and
 * reviewed at the end (cli/firecracker-mounts.ts), so the session never sees it. A named VM, which outlives
 * its command, has no end to review at: it cannot have mounts there.
 */
export const FIRECRACKER_MOUNTS_MISSING =
  'the Firecracker backend has no shared file system: a throw-away `run` or `exec` copies -v dirs in and reviews their changes at the end (as --review), but a named VM on Firecracker cannot have mounts; use --backend qemu (or leave out -v / mounts)';

export async function selectBackend(config: ConfigValues, paths: GhostPaths): Promise<BackendChoice> {
  // `auto` picks a backend that can do what was asked: only QEMU gives the guest a network or mounts so far.
  const wantsNet = config['net.mode'] !== 'none';
  const wantsMounts = config.mounts.length > 0;
  if (
    config.backend === 'firecracker' ||
    (config.backend === 'auto' && !wantsNet && !wantsMounts && findExecutable(config['firecracker.bin']))
  ) {
    if (wantsNet) throw new NetUnavailableError(`--net (net.mode = "nat"): ${FIRECRACKER_NET_MISSING}`);
    if (wantsMounts) throw new VmBackendUnavailableError(`-v (mounts): ${FIRECRACKER_MOUNTS_MISSING}`);
    const fc = await firecrackerFactory(config);
    const probe = await fc.probe();
    if (probe.ok) return { factory: fc, accel: 'kvm' };
    if (config.backend === 'firecracker')
      throw new VmBackendUnavailableError(`Firecracker cannot run here: ${probe.reason}. ${probe.remedy}`);
  }
  const qemu = new QemuFactory(config['qemu.bin'], 'qemu-img', paths.stateDir);
  const probe = await qemu.probe();
  if (!probe.ok) throw new VmBackendUnavailableError(`QEMU cannot run here: ${probe.reason}. ${probe.remedy}`);
  if (wantsNet) findPasst(); // missing passt: exit 69 before anything boots
  const accel = await chooseAccel(config.accel, paths.stateDir, config['qemu.bin']);
  return { factory: qemu, accel: accel.accel, ...(accel.notice ? { notice: accel.notice } : {}) };
}
