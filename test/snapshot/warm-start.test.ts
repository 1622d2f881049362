/**
 * Warm starts from a QEMU snapshot, with real VMs: clones of one snapshot must not share host keys,
 * CRNG state or a stale clock, must work (exec, SFTP), and a damaged snapshot must be refused with a
 * fall back to a cold boot.
 */
import { PassThrough } from 'node:stream';
import { chmodSync, openSync, writeSync, closeSync, existsSync, statSync, truncateSync } from 'node:fs';
import type ssh2 from 'ssh2';
import { afterAll, describe, expect, it } from 'vitest';
import { runGuestCommand } from '../../src/host/cli/exec.js';
import type { VmSession } from '../../src/host/session.js';
import { bootVm } from '../helpers/session.js';

async function guest(s: VmSession, cmd: string): Promise<string> {
  const stdout = new PassThrough();
  let out = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  const status = await runGuestCommand(s.ssh!, cmd, { stdout, stderr: new PassThrough() });
  expect(status, `${cmd} failed`).toBe(0);
  return out.trim();
}

function readdir(ssh: ssh2.Client, path: string): Promise<string[]> {
  return new Promise((resolve, reject) =>
    ssh.sftp((err, sftp) => {
      if (err) return reject(err);
      sftp.readdir(path, (e, list) => (e ? reject(e) : resolve(list.map((x) => x.filename))));
    }),
  );
}

const open: VmSession[] = [];
afterAll(async () => {
  await Promise.all(open.map((s) => s.close()));
});

describe('warm snapshot restore', () => {
  it('two clones of one snapshot get their own host key, CRNG state and the current time, and both work', async () => {
    // The first boot creates the snapshot if there is none (and is itself restored from it).
    const first = await bootVm({ memory: '448M' });
    open.push(first);
    expect(first.restoredFrom).toBeDefined();
    await first.close();

    const cloneNotices: string[] = [];
    const [a, b] = await Promise.all([
      bootVm({ memory: '448M' }, undefined, (n) => cloneNotices.push(n)),
      bootVm({ memory: '448M' }, undefined, (n) => cloneNotices.push(n)),
    ]);
    open.push(a, b);
    // A clone leaves the snapshot's files as recorded (its writes go to its own layer): no rebuild.
    expect(cloneNotices.filter((n) => /unusable|preparing/.test(n))).toEqual([]);
    expect(a.restoredFrom).toBe(first.restoredFrom);
    expect(b.restoredFrom).toBe(first.restoredFrom);
    expect(a.hostKey).toBeDefined();
    expect(a.hostKey).not.toBe(b.hostKey);
    expect(a.hostKey).not.toBe(first.hostKey);

    const [ra, rb] = await Promise.all([
      guest(a, 'head -c 32 /dev/urandom | od -An -tx1'),
      guest(b, 'head -c 32 /dev/urandom | od -An -tx1'),
    ]);
    expect(ra).toMatch(/[0-9a-f]{2}/);
    expect(ra).not.toBe(rb);

    for (const s of [a, b]) {
      const before = Date.now();
      const guestNow = Number(await guest(s, 'date +%s.%N')) * 1000;
      const after = Date.now();
      expect(guestNow).toBeGreaterThan(before - 1000);
      expect(guestNow).toBeLessThan(after + 1000);
      expect(await readdir(s.ssh!, '/opt/ghostly')).toContain('ghostly-agent.cjs');
      expect(await guest(s, 'echo $((6 * 7))')).toBe('42');
    }
    await Promise.all([a.close(), b.close()]);
  });

  it('a damaged snapshot is refused: the run falls back to a cold boot and the snapshot is rebuilt next time', async () => {
    const s1 = await bootVm({ memory: '416M' });
    open.push(s1);
    const snapshotDir = s1.restoredFrom ? `${s1.image.dir}/snapshots/${s1.restoredFrom}` : undefined;
    await s1.close();
    expect(snapshotDir && existsSync(snapshotDir)).toBe(true);
    // Overwrite the start of the migration stream (same size, so only QEMU's own checks can notice).
    const state = `${snapshotDir}/state.bin`;
    chmodSync(state, 0o644);
    const fd = openSync(state, 'r+');
    writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, 0);
    closeSync(fd);

    const notices: string[] = [];
    const s2 = await bootVm({ memory: '416M' }, undefined, (n) => notices.push(n));
    open.push(s2);
    expect(s2.restoredFrom).toBeUndefined();
    expect(notices.join('\n')).toMatch(/restoring the warm snapshot failed .*booting cold/);
    expect(existsSync(snapshotDir!)).toBe(false);
    expect(await guest(s2, 'uname -s')).toBe('Linux');
    await s2.close();
  });

  it('a truncated snapshot disk is never used: deleted with a notice saying why, and rebuilt', async () => {
    const s1 = await bootVm({ memory: '448M' });
    open.push(s1);
    const key = s1.restoredFrom;
    await s1.close();
    expect(key).toBeDefined();
    const disk = `${s1.image.dir}/snapshots/${key}/disk.qcow2`;
    const recorded = statSync(disk).size;
    chmodSync(disk, 0o644);
    truncateSync(disk, 512);

    const notices: string[] = [];
    const s2 = await bootVm({ memory: '448M' }, undefined, (n) => notices.push(n));
    open.push(s2);
    expect(notices.filter((n) => /unusable/.test(n))).toEqual([
      `the warm snapshot ${key} is unusable (disk.qcow2 is 512 bytes, ${recorded} recorded): removed it, making a new one`,
    ]);
    expect(s2.restoredFrom).toBe(key);
    expect(statSync(disk).size).toBeGreaterThan(512);
    expect(await guest(s2, 'uname -s')).toBe('Linux');
    await s2.close();
  });

  it('--cold skips the snapshot', async () => {
    const s = await bootVm({ memory: '448M' }, undefined, undefined, true);
    open.push(s);
    expect(s.restoredFrom).toBeUndefined();
    await s.close();
  });
});
