/**
 * The host side of a workspace at copy-in: every entry under DIR (never following a link). The tar
 * stream into the guest (tar-stream.ts) fills in each file's sha256 from the bytes it sends, so what the
 * guest got is exactly what was hashed; at the end it is the baseline for the change set and for spotting conflicts (a host
 * entry that no longer matches it was changed here while the VM ran).
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readdirSync,
  readlinkSync,
  readSync,
  type Stats,
} from 'node:fs';
import { join } from 'node:path';
import { escapeControl } from '../../shared/escape-control.js';
import type { EntryType, Tree, TreeEntry } from './entry.js';

const CHUNK = 1024 * 1024;

function typeOf(st: Stats): EntryType {
  return st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other';
}

/** sha256 of a host file read through an fd opened O_NOFOLLOW (a link put there meanwhile is not read through). */
export function hashHostFile(path: string): { sha256: string; size: number } {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const h = createHash('sha256');
    const buf = Buffer.allocUnsafe(CHUNK);
    let size = 0;
    for (let n; (n = readSync(fd, buf, 0, CHUNK, null)) > 0; size += n) h.update(buf.subarray(0, n));
    if (!fstatSync(fd).isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EINVAL' });
    return { sha256: h.digest('hex'), size };
  } finally {
    closeSync(fd);
  }
}

/**
 * What is at `abs` now, described like a snapshot entry (undefined: nothing there). Files are hashed
 * unless `hash` is false (the copy-in hashes what it streams instead).
 */
export function describeHost(abs: string, path: string, hash = true): TreeEntry | undefined {
  let st;
  try {
    st = lstatSync(abs);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR')
      return undefined;
    throw err;
  }
  const type = typeOf(st);
  const entry: TreeEntry = { path, type, mode: st.mode & 0o777, size: st.size };
  if (type === 'file' && hash) Object.assign(entry, hashHostFile(abs));
  if (type === 'symlink') entry.target = readlinkSync(abs);
  return entry;
}

export interface HostSnapshot {
  root: string;
  tree: Tree;
  /** Entries that are not files, dirs or symlinks (sockets, FIFOs, devices): not copied in. */
  skipped: string[];
}

export function snapshotHostDir(root: string): HostSnapshot {
  const tree: Tree = new Map();
  const skipped: string[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(rel ? join(root, rel) : root).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const entry = describeHost(join(root, path), path, false);
      if (!entry) continue;
      if (entry.type === 'other') {
        skipped.push(escapeControl(path));
        continue;
      }
      tree.set(path, entry);
      if (entry.type === 'dir') walk(path);
    }
  };
  walk('');
  return { root, tree, skipped };
}
