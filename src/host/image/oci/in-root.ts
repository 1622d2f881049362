/**
 * Paths inside a root filesystem being assembled on the host, resolved the way the guest will see them
 * but without ever letting the host follow a symlink: every parent component is lstat'ed and a symlink
 * among them is resolved here, against the rootfs (an absolute target starts again at the rootfs' root).
 * A `..` above the root, directly or through a link, is refused, as is a loop.
 */
import { lstatSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

const MAX_LINKS = 40; // as Linux's MAXSYMLINKS

export class UnsafePathError extends Error {}

/** The components of a tar entry's name, or an error for a name that must never be extracted. */
export function entryParts(name: string): string[] {
  if (name.includes('\0')) throw new UnsafePathError('has a NUL byte in its name');
  if (name.startsWith('/')) throw new UnsafePathError('is an absolute path');
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new UnsafePathError('has a `..` component');
  return parts;
}

function lstatOrUndefined(path: string): ReturnType<typeof lstatSync> | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * The real (symlink-free) components of the directory that holds `parts`' last component. Missing
 * directories are fine (the caller creates them); a parent that is a file is refused.
 */
export function resolveParent(rootfs: string, parts: readonly string[]): string[] {
  const queue = parts.slice(0, -1);
  const real: string[] = [];
  let links = 0;
  while (queue.length) {
    const comp = queue.shift() as string;
    if (comp === '..') {
      if (real.length === 0) throw new UnsafePathError('leads out of the root filesystem (through `..`)');
      real.pop();
      continue;
    }
    const st = lstatOrUndefined(join(rootfs, ...real, comp));
    if (st?.isSymbolicLink()) {
      if (++links > MAX_LINKS) throw new UnsafePathError('goes through too many symbolic links (a loop?)');
      const target = readlinkSync(join(rootfs, ...real, comp));
      if (target.startsWith('/')) real.length = 0;
      queue.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
      continue;
    }
    if (st && !st.isDirectory())
      throw new UnsafePathError(`has a parent /${[...real, comp].join('/')} that is not a directory`);
    real.push(comp);
  }
  return real;
}
