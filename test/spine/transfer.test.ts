/**
 * Bytes through one VM's SSH connection (virtio-serial → bridge → agent): a 10 MB binary stream both ways
 * over exec pipes, and SFTP put/get plus the everyday file operations. One VM for the whole file.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SFTPWrapper, Stats as SftpStats } from 'ssh2';
import type ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VmSession } from '../../src/host/session.js';
import { bootVm } from '../helpers/session.js';
import { openSftp, sftpCall, sshExec } from '../helpers/ssh.js';

const MB = 1024 * 1024;
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const rate = (bytes: number, ms: number): string => `${(bytes / MB / (ms / 1000)).toFixed(1)} MB/s`;

let session: VmSession;
let ssh: ssh2.Client;
const local = mkdtempSync(join(tmpdir(), 'vg-transfer-'));

beforeAll(async () => {
  session = await bootVm();
  ssh = session.ssh as ssh2.Client;
  expect(ssh).toBeDefined();
});
afterAll(async () => {
  await session?.close();
  rmSync(local, { recursive: true, force: true });
});

describe('10 MB binary stream over exec pipes', () => {
  const data = randomBytes(10 * MB);

  it('host → guest arrives byte-exact', async () => {
    const t0 = performance.now();
    const r = await sshExec(ssh, 'cat > /tmp/up && sha256sum /tmp/up && stat -c %s /tmp/up', data);
    const ms = performance.now() - t0;
    console.log(`host → guest: 10 MB in ${ms.toFixed(0)} ms, ${rate(data.length, ms)}`);
    expect(r.code, r.stderr).toBe(0);
    const [sumLine, size] = r.stdout.toString().trim().split('\n');
    expect(size).toBe(String(data.length));
    expect(sumLine?.split(' ')[0]).toBe(sha256(data));
  });

  it('guest → host arrives byte-exact (the file sent up, read back)', async () => {
    const t0 = performance.now();
    const r = await sshExec(ssh, 'cat /tmp/up');
    const ms = performance.now() - t0;
    console.log(`guest → host: 10 MB in ${ms.toFixed(0)} ms, ${rate(r.stdout.length, ms)}`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.length).toBe(data.length);
    expect(r.stdout.equals(data)).toBe(true);
  });

  it('guest → host arrives byte-exact (bytes made in the guest, hashed there)', async () => {
    // The guest hashes what it sends and reports the hash on stderr: both sides' views must agree.
    const r = await sshExec(ssh, 'head -c 10485760 /dev/urandom | tee >(sha256sum >&2)');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.length).toBe(10 * MB);
    expect(r.stderr.trim().split(/\s+/)[0]).toBe(sha256(r.stdout));
    // Not our own upload echoed back, and not all zeroes.
    expect(r.stdout.equals(data)).toBe(false);
    expect(new Set(r.stdout.subarray(0, 4096)).size).toBeGreaterThan(200);
  });
});

describe('SFTP', () => {
  let sftp: SFTPWrapper;
  const data = randomBytes(3 * MB);
  const up = join(local, 'up.bin');
  const down = join(local, 'down.bin');
  writeFileSync(up, data);

  beforeAll(async () => {
    sftp = await openSftp(ssh);
  });
  afterAll(() => sftp?.end());

  it('fastPut then fastGet of a 3 MB file is byte-exact, and the guest agrees', async () => {
    await sftpCall((cb) => sftp.mkdir('/tmp/sftp', cb));
    let t0 = performance.now();
    await sftpCall((cb) => sftp.fastPut(up, '/tmp/sftp/a.bin', cb));
    console.log(`sftp put: 3 MB, ${rate(data.length, performance.now() - t0)}`);
    const guest = await sshExec(ssh, 'sha256sum /tmp/sftp/a.bin');
    expect(guest.stdout.toString().split(' ')[0]).toBe(sha256(data));
    t0 = performance.now();
    await sftpCall((cb) => sftp.fastGet('/tmp/sftp/a.bin', down, cb));
    console.log(`sftp get: 3 MB, ${rate(data.length, performance.now() - t0)}`);
    expect(readFileSync(down).equals(data)).toBe(true);
  });

  it('stat, readdir, rename, mkdir and unlink are real file operations in the guest', async () => {
    const st = await sftpCall<SftpStats>((cb) => sftp.stat('/tmp/sftp/a.bin', cb));
    expect(st.isFile()).toBe(true);
    expect(st.size).toBe(data.length);

    await sftpCall((cb) => sftp.mkdir('/tmp/sftp/sub', cb));
    await sftpCall((cb) => sftp.rename('/tmp/sftp/a.bin', '/tmp/sftp/sub/b.bin', cb));
    const list = await sftpCall<Array<{ filename: string; attrs: SftpStats }>>((cb) => sftp.readdir('/tmp/sftp', cb));
    expect(list.map((e) => e.filename).sort()).toEqual(['sub']);
    expect(list[0]?.attrs.isDirectory()).toBe(true);
    const inner = await sftpCall<Array<{ filename: string; attrs: SftpStats }>>((cb) =>
      sftp.readdir('/tmp/sftp/sub', cb),
    );
    expect(inner.map((e) => [e.filename, e.attrs.size])).toEqual([['b.bin', data.length]]);
    // The guest's own view (not SFTP's) agrees.
    const seen = await sshExec(ssh, 'cd /tmp/sftp && find . | sort && stat -c %s sub/b.bin');
    expect(seen.stdout.toString().trim().split('\n')).toEqual(['.', './sub', './sub/b.bin', String(data.length)]);

    await sftpCall((cb) => sftp.unlink('/tmp/sftp/sub/b.bin', cb));
    await expect(sftpCall<SftpStats>((cb) => sftp.stat('/tmp/sftp/sub/b.bin', cb))).rejects.toThrow(/No such file/);
    await sftpCall((cb) => sftp.rmdir('/tmp/sftp/sub', cb));
    const gone = await sshExec(ssh, 'ls -A /tmp/sftp | wc -l');
    expect(gone.stdout.toString().trim()).toBe('0');
  });
});
