/** Directories only the launching user may enter: created 0700, and refused if they are not ours. */
import { lstatSync, mkdirSync, chmodSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { StoreUnsafeDirError } from './errors.js';

const REMEDY = 'remove it (or set XDG_RUNTIME_DIR to a private directory) and try again';

function refuseUnlessOurs(path: string, st: Stats): void {
  const uid = process.getuid?.() ?? 0;
  if (st.isSymbolicLink())
    throw new StoreUnsafeDirError(`${path} is a symbolic link, not a directory of ours; ${REMEDY}`);
  if (!st.isDirectory() || st.uid !== uid)
    throw new StoreUnsafeDirError(`${path} is not a directory owned by uid ${uid}; ${REMEDY}`);
}

export function ensurePrivateDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  const st = lstatSync(path);
  refuseUnlessOurs(path, st);
  if ((st.mode & 0o077) !== 0) chmodSync(path, 0o700);
}

/**
 * Checks, on every use, a directory we rely on to be private (never follows a symlink): ours, a real
 * directory, and no group or other access — another local user who could write it could swap in a fake
 * per-VM dir with its own sockets and keys. A missing directory passes (nothing to trust yet).
 */
export function assertPrivateDir(path: string): void {
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  refuseUnlessOurs(path, st);
  if ((st.mode & 0o077) !== 0) {
    throw new StoreUnsafeDirError(
      `${path} is accessible to other users (mode ${(st.mode & 0o777).toString(8)}); ${REMEDY}`,
    );
  }
}

/** The runtime base and its vms/ dir, checked before any per-VM dir under them is read or created. */
export function assertPrivateVmsDir(vmsDir: string): void {
  const base = dirname(vmsDir);
  // A root-owned sticky dir (/tmp itself, when a caller keeps vms/ straight in it) cannot be swapped by
  // another user; the real runtime base is never one.
  const st = lstatSync(base, { throwIfNoEntry: false });
  if (!(st?.isDirectory() && st.uid === 0 && (st.mode & 0o1000) !== 0)) assertPrivateDir(base);
  assertPrivateDir(vmsDir);
}
