/**
 * Host-side writes of `cp NAME:SRC DEST` that never follow a symbolic link at the entry being written.
 * Every entry under DEST is at a guest-chosen name, and an earlier copy from the same guest may have left a
 * guest-made symlink there (`d -> /etc`); writing "into" it would let the guest reach any host path. So:
 * - a file is written to a fresh temp file beside it (O_CREAT|O_EXCL|O_NOFOLLOW), its mode and times set
 *   on the fd, and renamed over the entry: a symlink (or file) there is replaced, its target untouched;
 * - a symlink is made at a temp name and renamed over the entry the same way;
 * - a directory position holding a symlink has the link itself removed, then a real directory made; a
 *   real directory is entered only after lstat says it is one, and its mode and times are applied through
 *   an fd opened O_DIRECTORY|O_NOFOLLOW.
 * Replacing (rather than refusing) the link keeps a repeated copy working and loses nothing: only the
 * link goes, and it is what the guest's tree no longer has. A regular file where a directory goes is
 * refused, never deleted. Directories we create are 0700 until their contents are in, so no other local
 * user can plant anything in them meanwhile.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fchmodSync,
  futimesSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  symlinkSync,
  unlinkSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { destinationError, hostReason } from './errors.js';

const { O_WRONLY, O_RDONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_DIRECTORY } = constants;
const TEMP_ATTEMPTS = 8;

/** The process umask, read without changing it (process.umask() with no argument sets it twice). */
export function currentUmask(): number {
  try {
    const m = /^Umask:\s*([0-7]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m?.[1]) return parseInt(m[1], 8);
  } catch {
    // no /proc: fall through
  }
  return process.umask();
}

function lstatOrUndefined(path: string): ReturnType<typeof lstatSync> | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw destinationError('examine', path, hostReason(err), err);
  }
}

/** A real directory at `path` to fill: made 0700 if missing, a symlink there replaced, a non-directory refused. */
export function ensureRealDir(path: string): void {
  const st = lstatOrUndefined(path);
  if (st?.isDirectory()) return;
  if (st && !st.isSymbolicLink())
    throw destinationError(
      'create directory',
      path,
      'a file of that name is in the way; remove it or copy somewhere else',
    );
  try {
    if (st) unlinkSync(path);
    mkdirSync(path, { mode: 0o700 });
  } catch (err) {
    throw destinationError('create directory', path, hostReason(err), err);
  }
}

/** After a directory's contents: its mode and times, on an fd that proves it is still a real directory. */
export function finishDir(path: string, mode: number, atime: number, mtime: number): void {
  let fd: number;
  try {
    fd = openSync(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  } catch (err) {
    // O_NOFOLLOW|O_DIRECTORY gives ENOTDIR (or ELOOP) for a symlink as well as for a file.
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOTDIR' || code === 'ELOOP'
        ? 'it is no longer a real directory (a symbolic link or file took its place)'
        : hostReason(err);
    throw destinationError('set mode and times of directory', path, reason, err);
  }
  try {
    fchmodSync(fd, mode);
    futimesSync(fd, atime, mtime);
  } catch (err) {
    throw destinationError('set mode and times of directory', path, hostReason(err), err);
  } finally {
    closeSync(fd);
  }
}

const tempNameBeside = (dest: string): string =>
  join(dirname(dest), `.${basename(dest).slice(0, 40)}.vg-cp-${randomBytes(6).toString('hex')}`);

/** A new file beside `dest`, open for writing; never an existing file or a link. The caller commits or discards it. */
export class TempFile {
  readonly fd: number;
  readonly path: string;
  private open = true;
  private committed = false;

  constructor(readonly dest: string) {
    for (let attempt = 1; ; attempt++) {
      const path = tempNameBeside(dest);
      try {
        this.fd = openSync(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
        this.path = path;
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= TEMP_ATTEMPTS)
          throw destinationError('write file', dest, hostReason(err), err);
      }
    }
  }

  /** Mode and times on the fd, then the rename that replaces whatever was at `dest` (never followed). */
  commit(mode: number, atime: number, mtime: number): void {
    try {
      fchmodSync(this.fd, mode);
      futimesSync(this.fd, atime, mtime);
      this.close();
      renameSync(this.path, this.dest);
      this.committed = true;
    } catch (err) {
      this.discard();
      throw destinationError('write file', this.dest, hostReason(err), err);
    }
  }

  /** Closes and removes the temp file unless it was committed; safe to call more than once. */
  discard(): void {
    this.close();
    if (this.committed) return;
    try {
      unlinkSync(this.path);
    } catch {
      // already gone (renamed, or never made)
    }
  }

  private close(): void {
    if (!this.open) return;
    this.open = false;
    closeSync(this.fd);
  }
}

/** A symlink at `dest` with `target` as its text: made at a temp name and renamed over the entry. */
export function placeSymlink(target: string, dest: string): void {
  for (let attempt = 1; ; attempt++) {
    const tmp = tempNameBeside(dest);
    try {
      symlinkSync(target, tmp);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && attempt < TEMP_ATTEMPTS) continue;
      throw destinationError('create symbolic link', dest, hostReason(err), err);
    }
    try {
      renameSync(tmp, dest);
      return;
    } catch (err) {
      unlinkSync(tmp);
      throw destinationError('create symbolic link', dest, hostReason(err), err);
    }
  }
}
