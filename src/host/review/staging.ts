/**
 * The change set on this machine, before anything touches DIR: a private temp dir (0700) with `a/` (the
 * host's side of each changed entry, as it was at copy-in) and `b/` (the guest's side, from the scan's
 * stream). Guest names become paths here only after listing.ts accepted them; each streamed file must
 * have the size the listing gave and hash to the listing's sha256 (guest-stream.ts), so the bytes shown,
 * patched and applied are the ones the listing described. The review screen, the patch (git diff of a/ and b/) and apply
 * all read from here; the VM can be gone by then.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shownGuestName } from '../transfer/guest-names.js';
import { ensureRealDir, placeSymlink, TempFile } from '../transfer/local-write.js';
import type { Change } from './changes.js';
import type { ExpectedFile } from './guest-stream.js';

export interface Staging {
  dir: string;
  /** `a/` or `b/` path of an entry. */
  side(which: 'a' | 'b', path: string): string;
  /** Changes that could not be staged (the guest's bytes did not match its listing, or a host file changed). */
  refused: Map<Change, string>;
  remove(): void;
}

const CHUNK = 256 * 1024;

function makeParents(root: string, path: string): void {
  const parts = path.split('/').slice(0, -1);
  for (let i = 1; i <= parts.length; i++) ensureRealDir(join(root, ...parts.slice(0, i)));
}

/** Copies host file `src` to `dest` (a new file); its sha256 must be `sha256`, or it changed since copy-in. */
function copyHostFile(src: string, dest: string, mode: number, sha256: string | undefined): boolean {
  let fd: number;
  try {
    fd = openSync(src, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return false; // gone, or a link now: changed since copy-in
  }
  const tmp = new TempFile(dest);
  try {
    const h = createHash('sha256');
    const buf = Buffer.allocUnsafe(CHUNK);
    for (let n; (n = readSync(fd, buf, 0, CHUNK, null)) > 0;) {
      h.update(buf.subarray(0, n));
      for (let off = 0; off < n;) off += writeSync(tmp.fd, buf, off, n - off);
    }
    if (h.digest('hex') !== sha256) return false;
    const now = Date.now() / 1000;
    tmp.commit(mode, now, now);
    return true;
  } finally {
    tmp.discard();
    closeSync(fd);
  }
}

/**
 * Stages every change's host side from `hostDir` (and the guest side of dirs, links and mode changes);
 * returns the files whose guest side comes in the scan's stream, each with its path here (guest-stream.ts).
 */
export function stageChanges(
  changes: readonly Change[],
  hostDir: string,
): { staging: Staging; guestFiles: Map<string, ExpectedFile> } {
  const dir = mkdtempSync(join(tmpdir(), 'virtualghost-review-'));
  const side = (which: 'a' | 'b', path: string): string => join(dir, which, ...path.split('/'));
  const refused = new Map<Change, string>();
  // A refused change leaves neither side behind: the patch and the screen show only what can be applied.
  const refuse = (c: Change, why: string): void => {
    refused.set(c, why);
    for (const p of [side('a', c.from ?? c.path), side('b', c.path)]) rmSync(p, { force: true });
  };
  // Removed by its owner, or at the latest when the process exits (a signal ends a session with process.exit).
  const removeNow = (): void => rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeNow);
  const staging: Staging = {
    dir,
    side,
    refused,
    remove: () => {
      process.removeListener('exit', removeNow);
      removeNow();
    },
  };
  try {
    ensureRealDir(join(dir, 'a'));
    ensureRealDir(join(dir, 'b'));
    const guestFiles = new Map<string, ExpectedFile>();
    for (const c of changes) {
      const oldPath = c.from ?? c.path;
      if (c.old?.type === 'file') {
        makeParents(join(dir, 'a'), oldPath);
        if (!copyHostFile(join(hostDir, oldPath), side('a', oldPath), c.old.mode, c.old.sha256)) {
          refuse(c, `${shownGuestName(oldPath)}: conflict: it was changed on this machine while the VM ran`);
          // The guest still sends its side: checked like any other, then dropped.
          if (c.new?.type === 'file' && c.kind !== 'mode') guestFiles.set(c.path, { entry: c.new, dest: undefined });
          continue;
        }
      } else if (c.old?.type === 'symlink' && c.old.target !== undefined) {
        makeParents(join(dir, 'a'), oldPath);
        placeSymlink(c.old.target, side('a', oldPath));
      }
      const n = c.new;
      if (!n) continue;
      makeParents(join(dir, 'b'), c.path);
      if (n.type === 'dir') ensureRealDir(side('b', c.path));
      else if (n.type === 'symlink' && n.target !== undefined) placeSymlink(n.target, side('b', c.path));
      else if (n.type === 'file' && c.kind === 'mode') {
        if (!copyHostFile(join(hostDir, c.path), side('b', c.path), n.mode, n.sha256))
          refuse(c, `${shownGuestName(c.path)}: conflict: it was changed on this machine while the VM ran`);
      } else if (n.type === 'file') {
        guestFiles.set(c.path, { entry: n, dest: side('b', c.path) });
      }
    }
    return { staging, guestFiles };
  } catch (err) {
    staging.remove();
    throw err;
  }
}
