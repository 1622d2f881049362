/**
 * Where each file lives, seen from our side (host path) and from Firecracker's side (the path we put in API
 * bodies and flags).
 *
 * Firecracker-side paths are RELATIVE to the VMM's working directory (the instance dir, or the chroot root
 * under the jailer). Reasons: (1) a snapshot records the drive and vsock paths it was taken with, and the
 * snapshot docs require them to be "accessible at the same relative paths" to the restoring process — with
 * relative paths every restore in its own instance dir finds its own disk copy; (2) Unix socket paths are
 * limited to 107 bytes and Firecracker binds the names exactly as given.
 */
import { join } from 'node:path';
import { INSTANCE_FILES } from '../../store/instance-files.js';

export const FC_FILES = {
  apiSocket: 'fc.sock',
  vsockSocket: 'vsock.sock',
  rootfs: 'rootfs.ext4',
  log: INSTANCE_FILES.firecrackerLog,
  metrics: 'firecracker-metrics.json',
  /** Guest serial console: Firecracker's stdout. */
  console: INSTANCE_FILES.console,
  stderr: INSTANCE_FILES.firecrackerStderr,
  snapshotState: 'snapshot.vmstate',
  snapshotMem: 'snapshot.mem',
  /** Under the jailer the kernel and initrd must be inside the chroot too. */
  kernel: 'vmlinux',
  initrd: 'initrd.img',
} as const;
export type FcFile = keyof typeof FC_FILES;

export interface FcLayout {
  /** Directory Firecracker runs in (as seen from the host). */
  readonly vmmRoot: string;
  /** Directory for our own files that Firecracker never sees (console/stderr logs). */
  readonly instanceDir: string;
  host(file: FcFile): string;
  vm(file: FcFile): string;
}

/** Plain layout: Firecracker runs in the instance directory. */
export function plainLayout(instanceDir: string): FcLayout {
  return {
    vmmRoot: instanceDir,
    instanceDir,
    host: (f) => join(instanceDir, FC_FILES[f]),
    vm: (f) => FC_FILES[f],
  };
}

/** Jailer layout: Firecracker runs chrooted in `chrootRoot`; paths it sees are absolute inside the chroot. */
export function chrootLayout(instanceDir: string, chrootRoot: string): FcLayout {
  return {
    vmmRoot: chrootRoot,
    instanceDir,
    host: (f) => (f === 'console' || f === 'stderr' ? join(instanceDir, FC_FILES[f]) : join(chrootRoot, FC_FILES[f])),
    vm: (f) => `/${FC_FILES[f]}`,
  };
}
