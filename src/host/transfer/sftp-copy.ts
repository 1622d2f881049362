/**
 * Recursive copies between this machine and a guest over SFTP, keeping permission bits and modification
 * times (SFTP v3 carries whole seconds). Symbolic links are copied as links, not followed (no loops, and
 * a tree arrives as it was); sockets, FIFOs and devices are skipped with a notice. Directory modes and
 * times are applied after their contents, so a read-only directory can still be filled and its mtime is
 * not disturbed by the files written into it. This file is the upload direction (the guest side is not
 * ours to protect: modes go up as they are); `copy-from-guest.ts` is the other, which treats the guest as
 * hostile.
 */
import { lstatSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { basename, join, posix } from 'node:path';
import type { SFTPWrapper } from 'ssh2';
import { destinationError, guestReason, TransferDestinationError, TransferSourceMissingError } from './errors.js';
import { isNoSuchFile, RemoteFs } from './sftp-promises.js';

export interface CopyOptions {
  /** How a remote path is shown to the user, e.g. `dev:/root/x`. */
  remoteLabel(path: string): string;
  /** Bytes done of one file (called as it goes); for progress on large files. */
  onProgress?(file: string, done: number, total: number): void;
  onNotice?(line: string): void;
  /** Fails every SFTP request in flight (Ctrl-C): the copy unwinds, removing what it half wrote. */
  signal?: AbortSignal;
}

export interface CopyResult {
  files: number;
  dirs: number;
  bytes: number;
}

/** Uploads keep setuid/setgid/sticky, as `cp -p` does: the guest is the user's own sandbox. */
const UPLOAD_MODE_BITS = 0o7777;

export async function copyToGuest(
  sftp: SFTPWrapper,
  localSrc: string,
  remoteDest: string,
  opts: CopyOptions,
): Promise<CopyResult> {
  const fs = new RemoteFs(sftp, opts.signal);
  const label = opts.remoteLabel;
  let top: Stats;
  try {
    top = lstatSync(localSrc);
  } catch (err) {
    throw new TransferSourceMissingError(`local source ${localSrc} does not exist`, { cause: err });
  }
  const remoteIsDir = async (p: string): Promise<boolean | undefined> =>
    fs.stat(p).then(
      (s) => s.isDirectory(),
      (err: unknown) => (isNoSuchFile(err) ? undefined : Promise.reject(err)),
    );
  const target = await resolveRemoteTarget(
    remoteIsDir,
    remoteDest,
    basename(localSrc.replace(/\/+$/, '')) || '.',
    label,
  );
  const result: CopyResult = { files: 0, dirs: 0, bytes: 0 };

  /** SFTP's bare "Failure" hides ENOSPC and EISDIR: look at the guest to say which. */
  const whyWriteFailed = async (remote: string, size: number, err: unknown): Promise<string> => {
    if (await remoteIsDir(remote).catch(() => undefined)) return 'a directory of that name is in the way in the guest';
    const free = await fs.freeBytes(posix.dirname(remote));
    if (free !== undefined && free < Math.max(size, 1))
      return `the guest's disk is full (${free} bytes free, ${size} needed)`;
    return guestReason(err);
  };

  const put = async (local: string, remote: string, st: Stats): Promise<void> => {
    const attrs = {
      mode: st.mode & UPLOAD_MODE_BITS,
      atime: Math.floor(st.atimeMs / 1000),
      mtime: Math.floor(st.mtimeMs / 1000),
    };
    const setAttrs = (what: string): Promise<void> =>
      fs
        .setAttrs(remote, attrs)
        .catch((err: unknown) =>
          Promise.reject(destinationError(`set mode and times of ${what}`, label(remote), guestReason(err), err)),
        );
    if (st.isDirectory()) {
      await fs.mkdir(remote).catch(async (err: unknown) => {
        const isDir = await remoteIsDir(remote).catch(() => undefined);
        if (isDir === true) return;
        throw destinationError(
          'create directory',
          label(remote),
          isDir === false ? 'a file of that name is in the way in the guest' : guestReason(err),
          err,
        );
      });
      for (const name of readdirSync(local).sort())
        await put(join(local, name), posix.join(remote, name), lstatSync(join(local, name)));
      await setAttrs('directory');
      result.dirs++;
    } else if (st.isSymbolicLink()) {
      await fs
        .symlink(readlinkSync(local), remote)
        .catch((err: unknown) =>
          Promise.reject(destinationError('create symbolic link', label(remote), guestReason(err), err)),
        );
    } else if (st.isFile()) {
      await fs
        .put(local, remote, {
          ...(opts.onProgress
            ? { step: (done: number, _chunk: number, total: number) => opts.onProgress?.(local, done, total) }
            : {}),
        })
        .catch(async (err: unknown) => {
          throw destinationError('write file', label(remote), await whyWriteFailed(remote, st.size, err), err);
        });
      await setAttrs('file');
      result.files++;
      result.bytes += st.size;
    } else {
      opts.onNotice?.(`skipped ${local}: not a regular file, directory or symbolic link`);
    }
  };
  await put(localSrc, target, top);
  return result;
}

/** `cp` semantics: into an existing directory as its basename, otherwise to the destination path itself. */
async function resolveRemoteTarget(
  isDir: (p: string) => Promise<boolean | undefined>,
  dest: string,
  srcBase: string,
  label: (p: string) => string,
): Promise<string> {
  if ((await isDir(dest)) === true) return posix.join(dest, srcBase);
  const parent = posix.dirname(dest);
  if ((await isDir(parent)) !== true)
    throw new TransferDestinationError(`destination directory ${label(parent)} does not exist; create it first`);
  return dest;
}
