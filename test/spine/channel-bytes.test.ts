/**
 * The raw guest channel (host socket → QEMU → virtio port → guest bridge → guest Unix socket), without
 * SSH in the way: bulk bytes arrive byte-exact both ways while the other end reads slower than the
 * channel delivers, so the bridge's buffers fill, compact and drain (the path `npm run bench` times).
 * Like the bench, it swaps the agent's control socket for a peer of its own, so the session's control
 * stream is given up first. One VM for the whole file.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VmSession } from '../../src/host/session.js';
import { bootVm } from '../helpers/session.js';
import { sshExec } from '../helpers/ssh.js';

const MB = 1024 * 1024;
const SOCK = '/run/ghostly/control.sock';
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let session: VmSession;
let ssh: ssh2.Client;

beforeAll(async () => {
  session = await bootVm();
  ssh = session.ssh as ssh2.Client;
  session.control?.close();
});
afterAll(async () => {
  await session?.close();
});

/** Starts `peer` (a shell command) as the one listener on SOCK, and connects the host end to it. */
async function connectTo(peer: string): Promise<Socket> {
  const r = await sshExec(
    ssh,
    `rm -f ${SOCK}; (setsid socat UNIX-LISTEN:${SOCK},unlink-early SYSTEM:'${peer}' </dev/null >/dev/null 2>&1 &); for i in $(seq 100); do [ -S ${SOCK} ] && exit 0; sleep 0.05; done; exit 1`,
  );
  expect(r.code, `the guest peer did not listen on ${SOCK}: ${r.stderr.toString()}`).toBe(0);
  return (await session.driver
    .channel('control')
    .connect({ signal: AbortSignal.timeout(60_000), timeoutMs: 30_000 })) as Socket;
}

async function guestFile(path: string, deadlineMs: number): Promise<string> {
  for (const end = Date.now() + deadlineMs; Date.now() < end; await sleep(200)) {
    const r = await sshExec(ssh, `cat ${path} 2>/dev/null`);
    if (r.stdout.length > 0) return r.stdout.toString().trim();
  }
  throw new Error(`${path} did not appear in the guest within ${deadlineMs} ms`);
}

describe('raw guest channel, 24 MB each way with a slow reader', () => {
  it('host → guest arrives byte-exact through a guest reader slower than the channel', async () => {
    const data = randomBytes(24 * MB);
    // dd in 512-byte reads plus sha256sum: slower than the bridge under TCG, so the bridge holds bytes.
    const sock = await connectTo(
      `dd bs=512 count=${data.length / 512} iflag=fullblock 2>/dev/null | sha256sum > /tmp/up.sha`,
    );
    try {
      for (let at = 0; at < data.length; at += 256 * 1024) {
        if (!sock.write(data.subarray(at, at + 256 * 1024))) await new Promise((r) => sock.once('drain', r));
      }
      expect((await guestFile('/tmp/up.sha', 90_000)).split(' ')[0]).toBe(sha256(data));
    } finally {
      sock.destroy();
    }
  });

  it('guest → host arrives byte-exact while the host pauses its reads', async () => {
    const r = await sshExec(ssh, `head -c ${24 * MB} /dev/urandom > /tmp/down.bin && sha256sum /tmp/down.bin`);
    expect(r.code, r.stderr.toString()).toBe(0);
    const want = r.stdout.toString().split(' ')[0];
    const sock = await connectTo('cat /tmp/down.bin');
    try {
      const chunks: Buffer[] = [];
      let got = 0;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${got} of ${24 * MB} bytes within 90 s`)), 90_000);
        sock.on('data', (d: Buffer) => {
          chunks.push(d);
          got += d.length;
          if (got >= 24 * MB) {
            clearTimeout(timer);
            resolve();
          } else if (chunks.length % 64 === 0) {
            // Stop reading for a moment now and then: QEMU, then the guest bridge, must hold the bytes.
            sock.pause();
            setTimeout(() => sock.resume(), 300);
          }
        });
      });
      const all = Buffer.concat(chunks);
      expect(sha256(all.subarray(0, 24 * MB))).toBe(want);
      // The peer exits after the file; on the control port the bridge then says so, after the data.
      expect(['', '{"type":"agent-exited"}\n']).toContain(all.subarray(24 * MB).toString());
    } finally {
      sock.destroy();
    }
  });
});
