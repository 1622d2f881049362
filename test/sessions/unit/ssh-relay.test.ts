/**
 * The SSH relay and its pool without a VM: each pool "stream" is a local Unix echo server that tags its
 * replies with the stream's index, so a test can see which stream a client got, when it got it, and that
 * bytes flow both ways. Covers: 0600 socket, busy wait then release, timeout when all stay busy, close.
 */
import { lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChannelPool } from '../../../src/host/supervisor/channel-pool.js';
import { serveSshRelay, type SshRelay } from '../../../src/host/supervisor/ssh-relay.js';
import type { SshStreamPool } from '../../../src/host/vm/driver.js';

let dir: string;
let servers: Server[] = [];
let relay: SshRelay | undefined;
let connects: number[];

/** A pool of `capacity` echo servers; each reply is `<index>:<what was sent>`. */
function echoPool(capacity: number): SshStreamPool {
  connects = [];
  servers = Array.from({ length: capacity }, (_, i) => {
    const s = createServer((c) => c.on('data', (d: Buffer) => c.write(`${i}:${d.toString()}`)));
    s.listen(join(dir, `echo-${i}.sock`));
    return s;
  });
  return {
    capacity,
    channel: (index) => ({
      connect: () =>
        new Promise((resolve, reject) => {
          connects.push(index);
          const s = connect(join(dir, `echo-${index}.sock`), () => resolve(s));
          s.once('error', reject);
        }),
    }),
  };
}

/** Sends `text` and resolves with the first reply. */
function ask(sock: Socket, text: string): Promise<string> {
  return new Promise((resolve) => {
    sock.once('data', (d: Buffer) => resolve(d.toString()));
    sock.write(text);
  });
}

const open = (path: string): Promise<Socket> =>
  new Promise((resolve, reject) => {
    const s = connect(path, () => resolve(s));
    s.once('error', reject);
  });

const closed = (s: Socket): Promise<void> => new Promise((r) => (s.closed ? r() : s.once('close', () => r())));

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vg-relay-unit-'));
});
afterEach(async () => {
  await relay?.close();
  relay = undefined;
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  rmSync(dir, { recursive: true, force: true });
});

describe('serveSshRelay', () => {
  it('listens on a 0600 socket, pipes bytes both ways, and close() removes the socket', async () => {
    const path = join(dir, 'ssh.sock');
    relay = await serveSshRelay({ socketPath: path, pool: echoPool(2) });
    expect(lstatSync(path).isSocket()).toBe(true);
    expect((lstatSync(path).mode & 0o777).toString(8)).toBe('600');
    // No staging dir left beside it.
    expect(readdirSync(dir).filter((n) => n.startsWith('.'))).toEqual([]);
    const c = await open(path);
    expect(await ask(c, 'hello')).toBe('0:hello');
    const big = 'x'.repeat(300_000);
    let got = '';
    c.on('data', (d: Buffer) => (got += d.toString()));
    c.write(big);
    await new Promise<void>((r) => {
      const t = setInterval(() => {
        if (got.replace(/0:/g, '').length >= big.length) {
          clearInterval(t);
          r();
        }
      }, 10);
    });
    expect(got.replace(/0:/g, '')).toBe(big);
    const gone = closed(c);
    await relay.close();
    await gone;
    expect(() => lstatSync(path)).toThrow();
  });

  it('gives each concurrent client its own stream; a client waits while all are busy and gets the released one', async () => {
    const path = join(dir, 'ssh.sock');
    const lines: string[] = [];
    relay = await serveSshRelay({ socketPath: path, pool: echoPool(2), log: (l) => lines.push(l) });
    const a = await open(path);
    const b = await open(path);
    expect(await ask(a, 'a')).toBe('0:a');
    expect(await ask(b, 'b')).toBe('1:b');
    const c = await open(path);
    let cReply: string | undefined;
    const cAnswered = ask(c, 'c').then((r) => (cReply = r));
    await new Promise((r) => setTimeout(r, 300));
    expect(cReply).toBeUndefined(); // both streams busy: c waits
    expect(connects).toEqual([0, 1]);
    a.end();
    await cAnswered;
    expect(cReply).toBe('0:c'); // a's stream, released when a closed
    expect(connects).toEqual([0, 1, 0]);
    expect(lines.some((l) => /relay #1 \(guest stream 0\): closed/.test(l))).toBe(true);
    b.destroy();
    c.destroy();
  });

  it('closes a client that waited longer than poolWaitMs, with a log line, and serves the next one normally', async () => {
    const path = join(dir, 'ssh.sock');
    const lines: string[] = [];
    relay = await serveSshRelay({ socketPath: path, pool: echoPool(1), log: (l) => lines.push(l), poolWaitMs: 400 });
    const a = await open(path);
    expect(await ask(a, 'a')).toBe('0:a');
    const b = await open(path);
    const t0 = Date.now();
    let bGot = '';
    b.on('data', (d: Buffer) => (bGot += d.toString()));
    b.write('b');
    await closed(b);
    expect(bGot).toBe('');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(350);
    expect(lines.join('\n')).toMatch(/all 1 guest SSH streams stayed busy for 400 ms/);
    a.destroy();
    await new Promise((r) => setTimeout(r, 50));
    const c = await open(path);
    expect(await ask(c, 'c')).toBe('0:c');
    c.destroy();
  });
});

describe('ChannelPool', () => {
  const fakePool = (capacity: number): SshStreamPool => ({
    capacity,
    channel: () => ({ connect: () => Promise.reject(new Error('unused')) }),
  });

  it('hands out the lowest free index, first come first served, and a release is idempotent', async () => {
    const pool = new ChannelPool(fakePool(2));
    const signal = new AbortController().signal;
    const a = await pool.acquire({ signal, timeoutMs: 1000 });
    const b = await pool.acquire({ signal, timeoutMs: 1000 });
    expect([a.index, b.index]).toEqual([0, 1]);
    const order: string[] = [];
    const c = pool.acquire({ signal, timeoutMs: 1000 }).then((l) => (order.push(`c${l.index}`), l));
    const d = pool.acquire({ signal, timeoutMs: 1000 }).then((l) => (order.push(`d${l.index}`), l));
    expect(pool.waiting).toBe(2);
    b.release();
    b.release(); // twice: must not free a second slot
    await c;
    expect(order).toEqual(['c1']);
    expect(pool.inUse).toBe(2);
    a.release();
    await d;
    expect(order).toEqual(['c1', 'd0']);
  });

  it('an aborted waiter leaves the queue; an unbounded pool (vsock) never waits', async () => {
    const pool = new ChannelPool(fakePool(1));
    const first = await pool.acquire({ signal: new AbortController().signal, timeoutMs: 1000 });
    const abort = new AbortController();
    const waiting = pool.acquire({ signal: abort.signal, timeoutMs: 10_000 });
    abort.abort(new Error('client went away'));
    await expect(waiting).rejects.toThrow('client went away');
    expect(pool.waiting).toBe(0);
    first.release();
    expect(pool.inUse).toBe(0);

    const unbounded = new ChannelPool(fakePool(Infinity));
    const leases = await Promise.all(
      Array.from({ length: 20 }, () => unbounded.acquire({ signal: new AbortController().signal, timeoutMs: 10 })),
    );
    expect(new Set(leases.map((l) => l.index)).size).toBe(20);
  });
});
