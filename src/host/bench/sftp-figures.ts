/**
 * SFTP throughput on the session's SSH connection (the agent's subsystem is OpenSSH's sftp-server): a
 * file of random bytes put into the guest's /tmp and got back, checked byte for byte.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type ssh2 from 'ssh2';
import type { SFTPWrapper } from 'ssh2';

const call = <T>(f: (cb: (err: Error | null | undefined, v?: T) => void) => void): Promise<T> =>
  new Promise((resolve, reject) => f((err, v) => (err ? reject(err) : resolve(v as T))));

export async function sftpMBps(ssh: ssh2.Client, megabytes: number): Promise<{ put: number; get: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'vg-bench-sftp-'));
  const sftp = await call<SFTPWrapper>((cb) => ssh.sftp(cb));
  const remote = `/tmp/vg-bench-sftp-${process.pid}`;
  try {
    const data = randomBytes(megabytes * 1024 * 1024);
    const local = join(dir, 'up');
    const back = join(dir, 'back');
    writeFileSync(local, data);
    let t0 = performance.now();
    await call<void>((cb) => sftp.fastPut(local, remote, (err) => cb(err)));
    const put = data.length / 1e6 / ((performance.now() - t0) / 1000);
    t0 = performance.now();
    await call<void>((cb) => sftp.fastGet(remote, back, (err) => cb(err)));
    const get = data.length / 1e6 / ((performance.now() - t0) / 1000);
    const digest = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
    if (digest(readFileSync(back)) !== digest(data)) throw new Error('SFTP bench: the file came back different');
    return { put, get };
  } finally {
    await call<void>((cb) => sftp.unlink(remote, (err) => cb(err))).catch(() => undefined);
    sftp.end();
    rmSync(dir, { recursive: true, force: true });
  }
}
