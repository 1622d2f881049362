/**
 * The change set on this machine, before anything touches DIR: a private temp dir (0700) with `a/` (the
 * host's side of each changed entry, as it was at copy-in) and `b/` (the guest's side, fetched over SFTP).
 * Guest names become paths here only after listing.ts accepted them; each fetched file is cut off at the
 * size the listing gave and must hash to the listing's sha256, so the bytes shown, patched and applied
 * are the ones the listing described. The review screen, the patch (git diff of a/ and b/) and apply
 * all read from here; the VM can be gone by then.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import type { SFTPWrapper } from 'ssh2';
import { readToEof } from '../transfer/copy-from-guest.js';
import { guestReason } from '../transfer/errors.js';
import { shownGuestName } from '../transfer/guest-names.js';
import { ensureRealDir, placeSymlink, TempFile } from '../transfer/local-write.js';
import { RemoteFs } from '../transfer/sftp-promises.js';
import type { Change } from './changes.js';
import type { TreeEntry } from './entry.js';

export interface Staging {
  dir: string;
  /** `a/` or `b/` path of an entry. */
  side(which: 'a' | 'b', path: string): string;
  /** Changes that could not be staged (the guest's bytes did not match its listing, or a host file changed). */
  refused: Map<Change, string>;
  remove(): void;
}

const CHUNK = 256 * 1024;
const FETCHES_IN_FLIGHT = 16;

function makeParents(root: string, path: string): void {
  const parts = path.split('/').slice(0, -1);
  for (let i = 1; i <= parts.length; i++) ensureRealDir(join(root, ...parts.slice(0, i)));
}

function hashFile(path: string): string {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const h = createHash('sha256');
    const buf = Buffer.allocUnsafe(CHUNK);
    for (let n; (n = readSync(fd, buf, 0, CHUNK, null)) > 0;) h.update(buf.subarray(0, n));
    return h.digest('hex');
  } finally {
    closeSync(fd);
  }
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

class SizeExceeded extends Error {}

/** Below this, one read at a time: the pipelined reader's 64 requests in flight cost more than a small file. */
const SMALL_FILE_BYTES = 256 * 1024;
const SMALL_READ = 32 * 1024;

/**
 * Reads up to `size` bytes, each request asking one byte more than is still due: an honest server's
 * reply ends short at EOF (no extra round trip to confirm it), a reply with more than listed is refused,
 * and a file that ends early fails the sha256 check.
 */
async function readSmall(fs: RemoteFs, handle: Buffer, fd: number, size: number): Promise<void> {
  let at = 0;
  do {
    const chunk = await fs.read(handle, at, Math.min(SMALL_READ, size + 1 - at));
    if (chunk.length === 0) return;
    if (at + chunk.length > size) throw new SizeExceeded();
    for (let off = 0; off < chunk.length;) off += writeSync(fd, chunk, off, chunk.length - off, at + off);
    at += chunk.length;
  } while (at < size);
}

async function fetchGuestFile(fs: RemoteFs, remote: string, dest: string, e: TreeEntry): Promise<string | undefined> {
  let handle: Buffer;
  try {
    handle = await fs.open(remote, 'r');
  } catch (err) {
    return `the guest's SFTP server would not open it: ${guestReason(err)}`;
  }
  const tmp = new TempFile(dest);
  try {
    if (e.size <= SMALL_FILE_BYTES) await readSmall(fs, handle, tmp.fd, e.size);
    else
      await readToEof(fs, handle, tmp.fd, (done) => {
        if (done > e.size) throw new SizeExceeded();
      });
    const now = Date.now() / 1000;
    tmp.commit(e.mode, now, now);
  } catch (err) {
    if (err instanceof SizeExceeded) return `the guest sent more than the ${e.size} bytes it listed`;
    return `reading it over SFTP failed: ${guestReason(err)}`;
  } finally {
    tmp.discard();
    // Not awaited: nothing depends on it, and a round trip per file adds up under emulation.
    void fs.close(handle).catch(() => undefined);
  }
  return hashFile(dest) === e.sha256 ? undefined : 'the bytes the guest sent are not the ones it listed';
}

/** Stages every change: the host side from `hostDir`, the guest side over `sftp` from `guestDir`. */
export async function stageChanges(
  changes: readonly Change[],
  hostDir: string,
  sftp: SFTPWrapper,
  guestDir: string,
): Promise<Staging> {
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
    const fs = new RemoteFs(sftp);
    const fetches: Array<() => Promise<void>> = [];
    for (const c of changes) {
      const oldPath = c.from ?? c.path;
      if (c.old?.type === 'file') {
        makeParents(join(dir, 'a'), oldPath);
        if (!copyHostFile(join(hostDir, oldPath), side('a', oldPath), c.old.mode, c.old.sha256)) {
          refuse(c, `${shownGuestName(oldPath)}: conflict: it was changed on this machine while the VM ran`);
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
        fetches.push(async () => {
          const why = await fetchGuestFile(fs, posix.join(guestDir, c.path), side('b', c.path), n);
          if (why !== undefined) refuse(c, `${shownGuestName(c.path)}: refused: ${why}`);
        });
      }
    }
    // Several files in flight at once: each costs a few round trips to the guest's SFTP server.
    await Promise.all(
      Array.from({ length: FETCHES_IN_FLIGHT }, async () => {
        for (let job; (job = fetches.shift());) await job();
      }),
    );
    return staging;
  } catch (err) {
    staging.remove();
    throw err;
  }
}
