/**
 * `cp NAME:SRC DEST`: a guest tree onto this machine. The guest's SFTP server is guest code (root in the
 * guest can replace it), so every name, type, mode, size and symlink target it sends is untrusted:
 * - a listed name must be one plain path component (`guest-names.ts`); a refused one is named in a notice,
 *   the copy goes on, and the copy ends with TransferIncompleteError (exit 74) instead of success;
 * - nothing is written through a symlink already on the host (`local-write.ts`);
 * - modes lose setuid, setgid and sticky bits and pass through the umask;
 * - a file is read until the server says EOF, not up to the size it claimed (`/proc` files claim 0);
 * - guest-derived text in notices and errors is escaped.
 */
import { statSync, writeSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import type { SFTPWrapper } from 'ssh2';
import { escapeControl } from '../../shared/escape-control.js';
import {
  destinationError,
  guestReason,
  hostReason,
  TransferDestinationError,
  TransferIncompleteError,
  TransferSourceError,
  TransferSourceMissingError,
} from './errors.js';
import {
  guestEntryType,
  guestTime,
  hostChildPath,
  hostModeForGuest,
  refuseGuestName,
  refuseSymlinkTarget,
  shownGuestName,
} from './guest-names.js';
import { currentUmask, ensureRealDir, finishDir, placeSymlink, TempFile } from './local-write.js';
import type { CopyOptions, CopyResult } from './sftp-copy.js';
import { isNoSuchFile, RemoteFs } from './sftp-promises.js';

const READ_CHUNK = 32 * 1024;
/** Reads in flight at once (as ssh2's fastGet): hides the round trip over the VM channel, memory bounded at 2 MiB. */
const READ_DEPTH = 64;

interface GuestAttrs {
  mode?: number;
  atime?: number;
  mtime?: number;
  size?: number;
}

/**
 * `cp` semantics: into an existing directory as SRC's basename, otherwise the destination path itself.
 * DEST is the user's own choice, so a symlink to a directory that they name is followed; the entry written
 * there (the target) is not: it may be a link an earlier copy from the guest made.
 */
function resolveLocalTarget(dest: string, srcBase: string): string {
  if (isDirectory(dest)) return join(dest, srcBase);
  const parent = dirname(dest);
  if (!isDirectory(parent))
    throw new TransferDestinationError(
      `destination directory ${escapeControl(parent)} does not exist; create it first`,
    );
  return dest;
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Reads `handle` to EOF into `fd`; returns the bytes written. READ_DEPTH reads of a chunk each are kept in
 * flight; a short reply has the rest of its chunk asked for before the next chunk is taken, and the first
 * EOF ends the file (later replies, consistent or not, are dropped).
 */
export async function readToEof(
  fs: RemoteFs,
  handle: Buffer,
  fd: number,
  onBytes: (done: number) => void,
): Promise<number> {
  const inflight: Array<Promise<Buffer>> = [];
  let nextOffset = 0;
  const ask = (): void => {
    inflight.push(fs.read(handle, nextOffset, READ_CHUNK));
    nextOffset += READ_CHUNK;
  };
  for (let i = 0; i < READ_DEPTH; i++) ask();
  let spanEnd = 0;
  try {
    for (;;) {
      let at = spanEnd;
      spanEnd += READ_CHUNK;
      let chunk = await (inflight.shift() as Promise<Buffer>);
      ask();
      for (;;) {
        if (chunk.length === 0) return at;
        for (let off = 0; off < chunk.length;) off += writeSync(fd, chunk, off, chunk.length - off, at + off);
        at += chunk.length;
        onBytes(at);
        if (at >= spanEnd) break;
        chunk = await fs.read(handle, at, spanEnd - at);
      }
    }
  } finally {
    // Replies still due after EOF or an error: nobody waits for them, so they must not become unhandled.
    for (const p of inflight) p.catch(() => undefined);
  }
}

export async function copyFromGuest(
  sftp: SFTPWrapper,
  remoteSrc: string,
  localDest: string,
  opts: CopyOptions,
): Promise<CopyResult> {
  const fs = new RemoteFs(sftp, opts.signal);
  const shown = (remote: string): string => escapeControl(opts.remoteLabel(remote));
  const sourceError = (op: string, remote: string, err: unknown): Error =>
    isNoSuchFile(err)
      ? new TransferSourceMissingError(`cannot ${op} ${shown(remote)}: it does not exist`, { cause: err })
      : new TransferSourceError(`cannot ${op} ${shown(remote)}: ${guestReason(err)}`, { cause: err });
  const top = await fs.lstat(remoteSrc).catch((err: unknown) => {
    throw isNoSuchFile(err)
      ? new TransferSourceMissingError(`remote source ${shown(remoteSrc)} does not exist`, { cause: err })
      : sourceError('examine', remoteSrc, err);
  });
  const target = resolveLocalTarget(localDest, posix.basename(remoteSrc.replace(/\/+$/, '')) || '.');
  const umask = currentUmask();
  const now = Math.floor(Date.now() / 1000);
  const result: CopyResult = { files: 0, dirs: 0, bytes: 0 };
  let refused = 0;

  const fetchFile = async (remote: string, local: string, attrs: GuestAttrs): Promise<void> => {
    const handle = await fs.open(remote, 'r').catch((err: unknown) => Promise.reject(sourceError('open', remote, err)));
    try {
      const tmp = new TempFile(local);
      try {
        const claimed = attrs.size ?? 0;
        // The claimed size only scales the progress bar; the last call says where the file really ended.
        const progress = (done: number): void => {
          if (done < claimed) opts.onProgress?.(remote, done, claimed);
        };
        const bytes = await readToEof(fs, handle, tmp.fd, progress).catch((err: unknown) => {
          throw err instanceof TransferDestinationError
            ? err
            : (err as NodeJS.ErrnoException).syscall === 'write'
              ? destinationError('write file', local, hostReason(err), err)
              : sourceError('read', remote, err);
        });
        opts.onProgress?.(remote, bytes, bytes);
        tmp.commit(hostModeForGuest(attrs.mode, umask), guestTime(attrs.atime, now), guestTime(attrs.mtime, now));
        result.files++;
        result.bytes += bytes;
      } finally {
        tmp.discard();
      }
    } finally {
      await fs.close(handle).catch(() => undefined);
    }
  };

  const get = async (remote: string, local: string, attrs: GuestAttrs): Promise<void> => {
    switch (guestEntryType(attrs.mode)) {
      case 'dir': {
        ensureRealDir(local);
        const entries = await fs
          .readdir(remote)
          .catch((err: unknown) => Promise.reject(sourceError('list directory', remote, err)));
        const seen = new Set<string>();
        for (const e of entries.sort((a, b) => (a.filename < b.filename ? -1 : a.filename > b.filename ? 1 : 0))) {
          const why = refuseGuestName(e.filename) ?? (seen.has(e.filename) ? 'a name listed twice' : undefined);
          if (why !== undefined) {
            refused++;
            opts.onNotice?.(
              `refused "${shownGuestName(e.filename)}" in ${shown(remote)}: ${why}, from the guest's SFTP server`,
            );
            continue;
          }
          seen.add(e.filename);
          await get(posix.join(remote, e.filename), hostChildPath(local, e.filename), e.attrs);
        }
        finishDir(local, hostModeForGuest(attrs.mode, umask), guestTime(attrs.atime, now), guestTime(attrs.mtime, now));
        result.dirs++;
        return;
      }
      case 'symlink': {
        const linkTarget = await fs
          .readlink(remote)
          .catch((err: unknown) => Promise.reject(sourceError('read symbolic link', remote, err)));
        const why = refuseSymlinkTarget(linkTarget);
        if (why !== undefined) {
          refused++;
          opts.onNotice?.(`refused ${shown(remote)}: ${why}, from the guest's SFTP server`);
          return;
        }
        placeSymlink(linkTarget, local);
        return;
      }
      case 'file':
        return fetchFile(remote, local, attrs);
      default:
        opts.onNotice?.(`skipped ${shown(remote)}: not a regular file, directory or symbolic link`);
    }
  };
  await get(remoteSrc, target, top);
  if (refused > 0) {
    const what = `${result.files} file${result.files === 1 ? '' : 's'} and ${result.dirs} director${result.dirs === 1 ? 'y' : 'ies'}`;
    throw new TransferIncompleteError(
      `copied ${what} to ${escapeControl(target)}, but refused ${refused} entr${refused === 1 ? 'y' : 'ies'} the guest sent (named above): names that are not a single path component, or unusable symlink targets`,
    );
  }
  return result;
}
