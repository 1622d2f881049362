/**
 * The root filesystem: mmdebstrap minbase + our payload, turned into ext4 without mounting.
 * As root: a directory tree, then `mkfs.ext4 -d DIR` (Debian 12's e2fsprogs 1.47.0 cannot read tarballs).
 * Without root: mmdebstrap's unshare mode writes an ext2 image itself (genext2fs, owners mapped right),
 * which we grow and give the ext4 features; the guest's ext4 driver mounts it either way.
 */
import { closeSync, ftruncateSync, openSync, readFileSync } from 'node:fs';
import { ImageBuildError } from './errors.js';
import { DEBIAN_SUITE, GUEST_PACKAGES } from './recipe.js';
import { invalidPackageNames } from './package-names.js';
import { runTool } from './run-tool.js';
import { findExecutable } from '../vm/which.js';

/** Without the merged-usr hook, usrmerge drags perl into a minbase bootstrap. */
const MERGED_USR_HOOKS = '/usr/share/mmdebstrap/hooks/merged-usr';

/**
 * As root, mmdebstrap's root mode mounts /proc, /sys, /dev/pts and /dev/shm inside the tree and unmounts
 * them at the end; a build killed in between (Ctrl-C twice, SIGKILL, a crash) would leave them mounted
 * under the cache, where nothing can remove the temp dir again (EBUSY). And killing mmdebstrap alone
 * leaves its dpkg children writing into the tree. So the build runs in its own mount and PID namespaces:
 * the mounts belong to it alone, and when unshare ends for any reason (--kill-child is a parent-death
 * signal, so even SIGKILL counts) the namespace's first process is killed, which takes every process of
 * the build with it. (unshare mode, used without root, makes its own namespaces.)
 * On a cancel the namespace's first process is killed, not unshare: util-linux 2.38's unshare blocks
 * SIGTERM while it waits, and it exits only once that process is reaped, which the kernel does after every
 * other process of the namespace is gone. So when runTool settles, nothing of the build writes any more.
 */
function inPrivateMountNamespace(format: 'directory' | 'ext2', cmd: string, args: string[]): [string, string[]] {
  // A missing tool is run directly, so that runTool's "not installed: apt-get install …" message names it.
  const wrap = format === 'directory' && findExecutable(cmd) !== undefined && findExecutable('unshare') !== undefined;
  return wrap
    ? [
        'unshare',
        ['--mount', '--propagation', 'private', '--pid', '--fork', '--kill-child=SIGKILL', '--', cmd, ...args],
      ]
    : [cmd, args];
}

/** SIGKILL to unshare's forked child, the PID namespace's init; SIGKILL to unshare if it has none (yet). */
function killNamespace(unsharePid: number): void {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${unsharePid}/task/${unsharePid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    // gone already, or a kernel without /proc/PID/task/TID/children: unshare's own death kills the child
  }
  for (const pid of children.length ? children : [unsharePid]) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }
}

export async function bootstrapRootfs(opts: {
  payloadDir: string;
  out: string;
  format: 'directory' | 'ext2';
  extraPackages?: readonly string[];
  signal?: AbortSignal;
  onLine: (line: string) => void;
}): Promise<void> {
  // Config validation refuses these already; a name that is not one must never become mmdebstrap syntax.
  const extra = opts.extraPackages ?? [];
  const bad = invalidPackageNames(extra);
  if (bad.length)
    throw new ImageBuildError(`not Debian package names: ${bad.map((n) => JSON.stringify(n)).join(', ')}`);
  const [cmd, args] = inPrivateMountNamespace(opts.format, 'mmdebstrap', [
    `--format=${opts.format}`,
    ...(opts.format === 'ext2' ? ['--mode=unshare'] : []),
    '--variant=minbase',
    `--include=${[...GUEST_PACKAGES, ...extra].join(',')}`,
    `--hook-dir=${MERGED_USR_HOOKS}`,
    // Documentation and translations are dead weight in a throw-away VM.
    '--dpkgopt=path-exclude=/usr/share/man/*',
    '--dpkgopt=path-exclude=/usr/share/doc/*',
    '--dpkgopt=path-exclude=/usr/share/locale/*',
    '--dpkgopt=path-exclude=/usr/share/info/*',
    `--customize-hook=sync-in ${opts.payloadDir} /`,
    '--customize-hook=rm -f "$1"/etc/machine-id "$1"/var/lib/dbus/machine-id',
    DEBIAN_SUITE,
    opts.out,
  ]);
  await runTool(cmd, args, {
    pkg: 'mmdebstrap',
    onLine: opts.onLine,
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(cmd === 'unshare' ? { stop: killNamespace } : {}),
  });
}

/**
 * ext4 from the tree, sparse, no journal: VM writes go to a per-VM throw-away layer and the base is
 * never mounted read-write, so a journal buys nothing.
 */
export async function makeExt4(opts: { dir: string; out: string; sizeMiB: number }): Promise<void> {
  const fd = openSync(opts.out, 'w', 0o644);
  try {
    ftruncateSync(fd, opts.sizeMiB * 1024 * 1024);
  } finally {
    closeSync(fd);
  }
  await runTool(
    'mkfs.ext4',
    ['-q', '-F', '-L', 'ghostroot', '-O', '^has_journal', '-E', 'root_owner=0:0', '-d', opts.dir, opts.out],
    { pkg: 'e2fsprogs' },
  ).catch((err: unknown) => {
    throw new ImageBuildError(`mkfs.ext4 could not build ${opts.out} from ${opts.dir}`, { cause: err });
  });
}

/** Grows mmdebstrap's minimal ext2 image to the target size and turns on the ext4 features. */
export async function upgradeExt2(opts: { image: string; sizeMiB: number }): Promise<void> {
  await runTool('e2fsck', ['-fy', opts.image], { pkg: 'e2fsprogs' });
  await runTool('resize2fs', [opts.image, `${opts.sizeMiB}M`], { pkg: 'e2fsprogs' });
  await runTool('tune2fs', ['-O', 'extents,uninit_bg,dir_index,huge_file,dir_nlink,extra_isize', opts.image], {
    pkg: 'e2fsprogs',
  });
  // tune2fs asks for a check after adding uninit_bg; e2fsck exits 1 when it fixed something, which is expected.
  await runTool('e2fsck', ['-fy', opts.image], { pkg: 'e2fsprogs' }).catch(() => undefined);
}
