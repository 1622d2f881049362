/**
 * Recursive copies between this machine and a guest over SFTP, keeping permission bits and modification
 * times (SFTP v3 carries whole seconds). Symbolic links are copied as links, not followed (no loops, and
 * a tree arrives as it was); sockets, FIFOs and devices are skipped with a notice. Directory modes and
 * times are applied after their contents, so a read-only directory can still be filled and its mtime is
 * not disturbed by the files written into it.
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync, readlinkSync, statSync, symlinkSync, utimesSync, type Stats } from 'node:fs';
import { basename, dirname, join, posix } from 'node:path';
import type { SFTPWrapper } from 'ssh2';
import { TransferDestinationError, TransferSourceMissingError } from './errors.js';
import { isNoSuchFile, RemoteFs } from './sftp-promises.js';

export interface CopyOptions {
  /** How a remote path is shown to the user, e.g. `dev:/root/x`. */
  remoteLabel(path: string): string;
  /** Bytes done of one file (called as it goes); for progress on large files. */
  onProgress?(file: string, done: number, total: number): void;
  onNotice?(line: string): void;
}

export interface CopyResult {
  files: number;
  dirs: number;
  bytes: number;
}

const PERMISSION_BITS = 0o7777;
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

/** `cp` semantics: into an existing directory as its basename, otherwise to the destination path itself. */
async function resolveTarget(isDir: (p: string) => Promise<boolean | undefined>, dest: string, srcBase: string, label: (p: string) => string, join2: (a: string, b: string) => string, parentOf: (p: string) => string): Promise<string> {
  const dstIsDir = await isDir(dest);
  if (dstIsDir === true) return join2(dest, srcBase);
  const parent = parentOf(dest);
  if ((await isDir(parent)) !== true) throw new TransferDestinationError(`destination directory ${label(parent)} does not exist; create it first`);
  return dest;
}

export async function copyToGuest(sftp: SFTPWrapper, localSrc: string, remoteDest: string, opts: CopyOptions): Promise<CopyResult> {
  const fs = new RemoteFs(sftp);
  let top: Stats;
  try {
    top = lstatSync(localSrc);
  } catch (err) {
    throw new TransferSourceMissingError(`local source ${localSrc} does not exist`, { cause: err });
  }
  const remoteIsDir = async (p: string): Promise<boolean | undefined> => fs.stat(p).then((s) => s.isDirectory(), (err: unknown) => (isNoSuchFile(err) ? undefined : Promise.reject(err)));
  const target = await resolveTarget(remoteIsDir, remoteDest, basename(localSrc.replace(/\/+$/, '')) || '.', opts.remoteLabel, posix.join, posix.dirname);
  const result: CopyResult = { files: 0, dirs: 0, bytes: 0 };

  const put = async (local: string, remote: string, st: Stats): Promise<void> => {
    const attrs = { mode: st.mode & PERMISSION_BITS, atime: Math.floor(st.atimeMs / 1000), mtime: Math.floor(st.mtimeMs / 1000) };
    if (st.isDirectory()) {
      await fs.mkdir(remote).catch(async (err: unknown) => {
        if ((await remoteIsDir(remote)) !== true) throw destinationError(opts.remoteLabel(remote), err);
      });
      for (const name of readdirSync(local).sort()) await put(join(local, name), posix.join(remote, name), lstatSync(join(local, name)));
      await fs.setAttrs(remote, attrs);
      result.dirs++;
    } else if (st.isSymbolicLink()) {
      await fs.symlink(readlinkSync(local), remote).catch((err: unknown) => Promise.reject(destinationError(opts.remoteLabel(remote), err)));
    } else if (st.isFile()) {
      await fs.put(local, remote, { ...(opts.onProgress ? { step: (done: number, _chunk: number, total: number) => opts.onProgress?.(local, done, total) } : {}) }).catch((err: unknown) => Promise.reject(destinationError(opts.remoteLabel(remote), err)));
      await fs.setAttrs(remote, attrs);
      result.files++;
      result.bytes += st.size;
    } else {
      opts.onNotice?.(`skipped ${local}: not a regular file, directory or symbolic link`);
    }
  };
  await put(localSrc, target, top);
  return result;
}

export async function copyFromGuest(sftp: SFTPWrapper, remoteSrc: string, localDest: string, opts: CopyOptions): Promise<CopyResult> {
  const fs = new RemoteFs(sftp);
  const top = await fs.lstat(remoteSrc).catch((err: unknown) => {
    throw isNoSuchFile(err) ? new TransferSourceMissingError(`remote source ${opts.remoteLabel(remoteSrc)} does not exist`, { cause: err }) : err;
  });
  const localIsDir = async (p: string): Promise<boolean | undefined> => {
    try {
      return statSync(p).isDirectory();
    } catch {
      return undefined;
    }
  };
  const target = await resolveTarget(localIsDir, localDest, posix.basename(remoteSrc.replace(/\/+$/, '')) || '.', (p) => p, join, dirname);
  const result: CopyResult = { files: 0, dirs: 0, bytes: 0 };

  const get = async (remote: string, local: string, mode: number, atime: number, mtime: number, size: number): Promise<void> => {
    const type = mode & S_IFMT;
    if (type === S_IFDIR) {
      try {
        mkdirSync(local, { mode: 0o700 });
      } catch (err) {
        if ((await localIsDir(local)) !== true) throw destinationError(local, err);
      }
      const entries = (await fs.readdir(remote)).filter((e) => e.filename !== '.' && e.filename !== '..').sort((a, b) => (a.filename < b.filename ? -1 : 1));
      for (const e of entries) await get(posix.join(remote, e.filename), join(local, e.filename), e.attrs.mode, e.attrs.atime, e.attrs.mtime, e.attrs.size);
      chmodSync(local, mode & PERMISSION_BITS);
      utimesSync(local, atime, mtime);
      result.dirs++;
    } else if (type === S_IFLNK) {
      try {
        symlinkSync(await fs.readlink(remote), local);
      } catch (err) {
        throw destinationError(local, err);
      }
    } else if (type === S_IFREG) {
      await fs.get(remote, local, { ...(opts.onProgress ? { step: (done: number, _chunk: number, total: number) => opts.onProgress?.(remote, done, total) } : {}) }).catch((err: unknown) => Promise.reject(destinationError(local, err)));
      chmodSync(local, mode & PERMISSION_BITS);
      utimesSync(local, atime, mtime);
      result.files++;
      result.bytes += size;
    } else {
      opts.onNotice?.(`skipped ${opts.remoteLabel(remote)}: not a regular file, directory or symbolic link`);
    }
  };
  await get(remoteSrc, target, top.mode, top.atime, top.mtime, top.size);
  return result;
}

function destinationError(where: string, err: unknown): TransferDestinationError {
  return new TransferDestinationError(`cannot write ${where}: ${(err as Error).message}`, { cause: err });
}
