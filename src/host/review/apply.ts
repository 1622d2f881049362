/**
 * Applies accepted changes to DIR, after the VM is gone (nothing in the guest can race it). Every entry
 * written is first compared with the snapshot from copy-in: one that changed on this machine meanwhile is
 * a conflict and stays as it is. Each parent on the way must be a real directory (lstat), never a link,
 * so nothing outside DIR is reached. Files are written to a temp file beside the entry and renamed over
 * it, symlinks made at a temp name and renamed, modes are `mode & 0777 & ~umask` set through an O_NOFOLLOW
 * fd: no setuid/setgid bit and no device node is ever made. Deletions go deepest first, writes parents first.
 */
import {
  closeSync,
  constants,
  fchmodSync,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  rmdirSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { hostReason } from '../transfer/errors.js';
import { shownGuestName } from '../transfer/guest-names.js';
import { currentUmask, placeSymlink, TempFile } from '../transfer/local-write.js';
import type { Change } from './changes.js';
import { byPath, sameContent, type TreeEntry } from './entry.js';
import { describeHost } from './snapshot.js';
import type { Staging } from './staging.js';

export interface ApplyResult {
  applied: Change[];
  /** Why each change that was not applied was not: conflicts and failures, already escaped. */
  problems: string[];
}

class Conflict extends Error {}

const { O_RDONLY, O_NOFOLLOW } = constants;
const CHUNK = 256 * 1024;

function matchesSnapshot(now: TreeEntry | undefined, then: TreeEntry | undefined): boolean {
  if (!now || !then) return now === then;
  if (now.type === 'dir' && then.type === 'dir') return true;
  return sameContent(now, then) && (now.type === 'symlink' || now.mode === then.mode);
}

/** Each parent of `path` under `root` must be a real directory: a link is never followed. */
function checkParents(root: string, path: string): void {
  const parts = path.split('/');
  for (let i = 1; i < parts.length; i++) {
    const rel = parts.slice(0, i).join('/');
    let st;
    try {
      st = lstatSync(join(root, rel));
    } catch {
      throw new Conflict(`its directory ${shownGuestName(rel)} is not there on this machine`);
    }
    if (!st.isDirectory())
      throw new Conflict(`${shownGuestName(rel)} on this machine is not a directory (a link is never followed)`);
  }
}

function expectUnchanged(root: string, path: string, then: TreeEntry | undefined): void {
  checkParents(root, path);
  if (!matchesSnapshot(describeHost(join(root, path), path), then))
    throw new Conflict('it was changed on this machine while the VM ran');
}

function chmodNoFollow(path: string, mode: number, dir: boolean): void {
  const fd = openSync(path, O_RDONLY | O_NOFOLLOW | (dir ? constants.O_DIRECTORY : 0));
  try {
    fchmodSync(fd, mode);
  } finally {
    closeSync(fd);
  }
}

function writeFileFrom(staged: string, dest: string, mode: number): void {
  const src = openSync(staged, O_RDONLY | O_NOFOLLOW);
  const tmp = new TempFile(dest);
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    for (let n; (n = readSync(src, buf, 0, CHUNK, null)) > 0;)
      for (let off = 0; off < n;) off += writeSync(tmp.fd, buf, off, n - off);
    const now = Date.now() / 1000;
    tmp.commit(mode, now, now);
  } finally {
    tmp.discard();
    closeSync(src);
  }
}

function removeEntry(abs: string, e: TreeEntry): void {
  if (e.type === 'dir') rmdirSync(abs);
  else unlinkSync(abs);
}

export function applyChanges(root: string, staging: Staging, chosen: readonly Change[]): ApplyResult {
  const umask = currentUmask();
  const applied = new Set<Change>();
  const failed = new Set<Change>();
  const problems: string[] = [];
  const fail = (c: Change, err: unknown): void => {
    failed.add(c);
    const why = err instanceof Conflict ? err.message : hostReason(err);
    problems.push(`not applied: ${shownGuestName(c.path)}: ${err instanceof Conflict ? 'conflict: ' : ''}${why}`);
  };
  const usable = chosen.filter((c) => {
    const why = staging.refused.get(c);
    if (why !== undefined) problems.push(`not applied: ${why}`);
    return why === undefined;
  });

  // Deletions: what goes away at a path, deepest first (a directory after its contents).
  const removals = usable
    .flatMap((c) => {
      const at = c.from ?? c.path;
      const goes =
        c.kind === 'deleted' ||
        c.kind === 'renamed' ||
        (c.kind === 'modified' && (c.old?.type === 'dir' || c.new?.type === 'dir'));
      return goes && c.old ? [{ c, at, old: c.old }] : [];
    })
    .sort((x, y) => byPath(y.at, x.at));
  for (const { c, at, old } of removals) {
    try {
      expectUnchanged(root, at, old);
      removeEntry(join(root, at), old);
      if (c.kind === 'deleted') applied.add(c);
    } catch (err) {
      fail(
        c,
        (err as NodeJS.ErrnoException).code === 'ENOTEMPTY'
          ? new Conflict('files were added to it on this machine')
          : err,
      );
    }
  }

  for (const c of [...usable].sort((x, y) => byPath(x.path, y.path))) {
    const n = c.new;
    if (!n || failed.has(c) || c.kind === 'deleted') continue;
    const abs = join(root, c.path);
    try {
      // Removed above: the path must now be empty; otherwise it must still be as it was at copy-in.
      const removed = c.kind === 'renamed' || (c.kind === 'modified' && (c.old?.type === 'dir' || n.type === 'dir'));
      expectUnchanged(root, c.path, removed || c.kind === 'renamed' ? undefined : c.old);
      const mode = n.mode & ~umask;
      if (n.type === 'dir') {
        if (c.kind === 'mode') chmodNoFollow(abs, mode, true);
        else {
          mkdirSync(abs, { mode: 0o700 });
          chmodNoFollow(abs, mode, true);
        }
      } else if (n.type === 'symlink' && n.target !== undefined) placeSymlink(n.target, abs);
      else if (n.type === 'file' && c.kind === 'mode') chmodNoFollow(abs, mode, false);
      else if (n.type === 'file') writeFileFrom(staging.side('b', c.path), abs, mode);
      applied.add(c);
    } catch (err) {
      fail(c, err);
    }
  }
  return { applied: [...applied], problems };
}
