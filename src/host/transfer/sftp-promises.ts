/**
 * The few ssh2 SFTP calls `cp` needs, as promises. Errors keep ssh2's SFTP status `code` (2 = no such file).
 * An abort signal fails every pending and later call with its reason: ssh2 leaves requests pending
 * forever when the connection goes away under them, and a copy must be able to unwind (and clean up).
 */
import type { SFTPWrapper, Stats, TransferOptions } from 'ssh2';
import type { FileEntryWithStats } from 'ssh2';

export const SFTP_NO_SUCH_FILE = 2;

export class RemoteFs {
  constructor(
    private readonly sftp: SFTPWrapper,
    private readonly signal?: AbortSignal,
  ) {}

  private settle<T>(start: (resolve: (value: T) => void, reject: (err: unknown) => void) => void): Promise<T> {
    const signal = this.signal;
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => reject(signal?.reason as Error);
      const off = (): void => signal?.removeEventListener('abort', onAbort);
      signal?.addEventListener('abort', onAbort, { once: true });
      start(
        (value) => (off(), resolve(value)),
        (err) => (off(), reject(err as Error)),
      );
    });
  }

  private call<T>(fn: (cb: (err: Error | null | undefined, value?: T) => void) => void): Promise<T> {
    return this.settle<T>((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value as T))));
  }

  lstat = (p: string): Promise<Stats> => this.call((cb) => this.sftp.lstat(p, cb));
  stat = (p: string): Promise<Stats> => this.call((cb) => this.sftp.stat(p, cb));
  readdir = (p: string): Promise<FileEntryWithStats[]> => this.call((cb) => this.sftp.readdir(p, cb));
  mkdir = (p: string): Promise<void> => this.call((cb) => this.sftp.mkdir(p, { mode: 0o700 }, cb));
  readlink = (p: string): Promise<string> => this.call((cb) => this.sftp.readlink(p, cb));
  /**
   * OpenSSH's sftp-server takes SYMLINK's two paths in swapped order (a long-standing quirk). ssh2 swaps
   * them itself only when the SSH server's banner says OpenSSH, and ours says ghostly-agent while the
   * SFTP server behind it is OpenSSH's: so we swap here.
   */
  symlink = (target: string, linkPath: string): Promise<void> =>
    this.call((cb) => this.sftp.symlink(linkPath, target, cb));
  setAttrs = (p: string, attrs: { mode: number; atime: number; mtime: number }): Promise<void> =>
    this.call((cb) => this.sftp.setstat(p, attrs, cb));
  open = (p: string, flags: 'r' | 'w'): Promise<Buffer> => this.call((cb) => this.sftp.open(p, flags, cb));
  close = (handle: Buffer): Promise<void> => this.call((cb) => this.sftp.close(handle, cb));
  /** Up to `len` bytes at `position`; an empty buffer at end of file (SFTP's EOF status). */
  read = (handle: Buffer, position: number, len: number): Promise<Buffer> =>
    this.settle((resolve, reject) =>
      this.sftp.read(handle, Buffer.alloc(len), 0, len, position, (err, bytesRead, data) =>
        err ? reject(err) : resolve(data.subarray(0, bytesRead)),
      ),
    );
  /** statvfs@openssh.com: free space where a write failed (undefined when the server lacks the extension). */
  freeBytes = (p: string): Promise<number | undefined> =>
    new Promise((resolve) => {
      try {
        this.sftp.ext_openssh_statvfs(p, (err, info: { f_bavail?: unknown; f_frsize?: unknown } | undefined) => {
          const bavail = asNumber(info?.f_bavail);
          const frsize = asNumber(info?.f_frsize);
          resolve(err || bavail === undefined || frsize === undefined ? undefined : bavail * frsize);
        });
      } catch {
        resolve(undefined);
      }
    });
  put = (local: string, remote: string, opts: TransferOptions): Promise<void> =>
    this.call((cb) => this.sftp.fastPut(local, remote, opts, cb));
}

const asNumber = (v: unknown): number | undefined =>
  typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : undefined;

export function isNoSuchFile(err: unknown): boolean {
  return (
    (err as { code?: unknown } | null)?.code === SFTP_NO_SUCH_FILE ||
    (err as { code?: unknown } | null)?.code === 'ENOENT'
  );
}
