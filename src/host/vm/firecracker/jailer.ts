/**
 * Optional jailer support (Firecracker's `jailer` binary: chroot + dropped privileges + namespaces).
 *
 * How it maps onto our layout:
 * - the jailer builds its chroot at `<chrootBase>/<basename of the firecracker binary>/<id>/root`, copies
 *   the firecracker binary into it, chroots, switches to uid/gid and execs Firecracker there;
 * - every file Firecracker opens must therefore be INSIDE that root: we hard-link (or reflink-copy) the
 *   kernel and initrd, put the per-VM root disk copy there, pre-create the log/metrics files, and chown them
 *   to uid:gid; API bodies then use chroot-absolute paths (`/vmlinux`, `/rootfs.ext4`, `/vsock.sock`, ...);
 * - the API and vsock sockets appear on the host at `<root>/fc.sock` and `<root>/vsock.sock`; the console
 *   and stderr logs stay in the instance dir because we hold those descriptors ourselves;
 * - the whole `<chrootBase>/<exec name>/<id>` tree is removed when the driver is disposed.
 * Requirements (jailer's own): run as root; the binary's file name must contain "firecracker"; ids are
 * `[A-Za-z0-9-]{1,64}`.
 * Caveat: the jailer changes credentials before exec'ing Firecracker, which clears PR_SET_PDEATHSIG; if our
 * process is SIGKILLed the jailed Firecracker survives until someone stops it (the instance's pid file).
 */
import { randomBytes } from 'node:crypto';
import { basename, join } from 'node:path';
import { FirecrackerJailerConfigError } from './errors.js';

export interface JailerOptions {
  /** Path of the `jailer` binary. */
  readonly bin: string;
  readonly uid: number;
  readonly gid: number;
  /** `--chroot-base-dir` (the jailer's default is /srv/jailer). */
  readonly chrootBase: string;
}

export function jailerId(vmName: string): string {
  const stem =
    vmName
      .replace(/[^A-Za-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 48) || 'vm';
  return `${stem}-${randomBytes(4).toString('hex')}`;
}

export function validateJailer(opts: JailerOptions, firecrackerBin: string): void {
  if (!Number.isInteger(opts.uid) || opts.uid < 0 || !Number.isInteger(opts.gid) || opts.gid < 0) {
    throw new FirecrackerJailerConfigError(
      `jailer uid/gid must be non-negative integers (got ${opts.uid}:${opts.gid})`,
    );
  }
  if (!basename(firecrackerBin).includes('firecracker')) {
    throw new FirecrackerJailerConfigError(
      `the jailer only execs binaries whose file name contains "firecracker"; ${firecrackerBin} does not`,
    );
  }
}

/** The jail directory we own and remove afterwards, and the chroot root inside it. */
export function jailPaths(opts: JailerOptions, firecrackerBin: string, id: string): { jailDir: string; root: string } {
  const jailDir = join(opts.chrootBase, basename(firecrackerBin), id);
  return { jailDir, root: join(jailDir, 'root') };
}

/** Full command line: jailer flags, then `--`, then Firecracker's own flags. */
export function jailerArgv(
  opts: JailerOptions,
  firecrackerBin: string,
  id: string,
  firecrackerArgs: readonly string[],
): string[] {
  return [
    opts.bin,
    '--id',
    id,
    '--exec-file',
    firecrackerBin,
    '--uid',
    String(opts.uid),
    '--gid',
    String(opts.gid),
    '--chroot-base-dir',
    opts.chrootBase,
    '--',
    ...firecrackerArgs,
  ];
}
