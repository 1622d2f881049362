/**
 * The hybrid-vsock connector against scripted stand-ins of Firecracker's host side (docs/vsock.md):
 * each test server plays one behaviour of `uds_path`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VsockConnectTimeoutError, VsockHandshakeError } from '../../src/host/channel/fc-vsock-errors.js';
import { connectHybridVsock, HybridVsockChannel } from '../../src/host/channel/fc-vsock.js';

let dir: string;
let uds: string;
const servers: Server[] = [];
const sockets = new Set<Socket>();

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vg-vsock-'));
  uds = join(dir, 'v.sock');
});
afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets.clear();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  await rm(dir, { recursive: true, force: true });
});

/** A server whose `onCommand(socket, firstChunk, connectionIndex)` scripts the host side. */
function serve(
  onCommand: (s: Socket, first: Buffer, index: number) => void,
): Promise<{ connections: () => number; firstChunks: string[] }> {
  let n = 0;
  const firstChunks: string[] = [];
  const server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    const index = n++;
    s.once('data', (first: Buffer) => {
      s.pause(); // bytes after the command wait for the script (e.g. a later pipe) instead of being dropped
      firstChunks.push(first.toString('latin1'));
      onCommand(s, first, index);
    });
  });
  servers.push(server);
  return new Promise((resolve) => server.listen(uds, () => resolve({ connections: () => n, firstChunks })));
}

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function readExactly(stream: Duplex, n: number): Promise<string> {
  return new Promise((resolve) => {
    let got = Buffer.alloc(0);
    const onData = (c: Buffer): void => {
      got = Buffer.concat([got, c]);
      if (got.length >= n) {
        stream.off('data', onData);
        resolve(got.toString('latin1'));
      }
    };
    stream.on('data', onData);
  });
}

const opts = (timeoutMs = 3_000) => ({
  udsPath: '',
  port: 52,
  signal: AbortSignal.timeout(10_000),
  timeoutMs,
  initialBackoffMs: 10,
  maxBackoffMs: 50,
});

describe('connectHybridVsock', () => {
  it('sends CONNECT <port>\\n in one write and accepts an OK line split across packets', async () => {
    const srv = await serve(async (s) => {
      for (const part of ['O', 'K 10', '73741824', '\n']) {
        s.write(part);
        await delay(30);
      }
      s.pipe(s);
    });
    const stream = await connectHybridVsock({ ...opts(), udsPath: uds });
    expect(srv.firstChunks).toEqual(['CONNECT 52\n']);
    stream.write('echo me');
    expect(await readExactly(stream, 7)).toBe('echo me');
    stream.destroy();
  });

  it('keeps bytes that arrive in the same packet right after the OK line', async () => {
    await serve((s) => s.write('OK 1073741824\nhello from the guest'));
    const stream = await connectHybridVsock({ ...opts(), udsPath: uds });
    expect(await readExactly(stream, 20)).toBe('hello from the guest');
    stream.destroy();
  });

  it('retries after EOF without OK (guest not listening yet) and then succeeds', async () => {
    const srv = await serve((s, _first, i) => (i < 3 ? s.end() : s.write('OK 5\n')));
    const stream = await connectHybridVsock({ ...opts(), udsPath: uds });
    expect(srv.connections()).toBe(4);
    stream.destroy();
  });

  it('retries while the socket does not exist yet (VMM still starting)', async () => {
    setTimeout(() => void serve((s) => s.write('OK 7\n')), 150);
    const stream = await connectHybridVsock({ ...opts(), udsPath: uds });
    stream.destroy();
  });

  it('times out with the last reason when nothing ever answers', async () => {
    await serve(() => undefined);
    const t0 = Date.now();
    const err = await connectHybridVsock({ ...opts(600), udsPath: uds, attemptTimeoutMs: 200 }).catch(
      (e: unknown) => e,
    );
    const took = Date.now() - t0;
    expect(err).toBeInstanceOf(VsockConnectTimeoutError);
    expect((err as Error).message).toMatch(/no answer to CONNECT 52/);
    expect(took).toBeGreaterThanOrEqual(550);
    expect(took).toBeLessThan(1_500);
  });

  it('times out saying EOF when the guest never listens', async () => {
    await serve((s) => s.end());
    const err = await connectHybridVsock({ ...opts(300), udsPath: uds }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VsockConnectTimeoutError);
    expect((err as Error).message).toMatch(/EOF before "OK"/);
  });

  it('a last attempt cut short by the deadline does not hide the EOF an earlier one saw', async () => {
    // Deterministic form of the race the test above loses on a loaded machine: the first attempt sees
    // EOF, every later one hears nothing until the overall deadline cuts it short.
    let n = 0;
    await serve((s) => {
      if (n++ === 0) s.end();
    });
    const err = await connectHybridVsock({ ...opts(300), udsPath: uds }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VsockConnectTimeoutError);
    expect(n).toBeGreaterThanOrEqual(2);
    expect((err as Error).message).toMatch(/last: EOF before "OK"/);
  });

  it('rejects garbage at once, without retrying', async () => {
    const srv = await serve((s) => s.write('HELLO THERE\n'));
    const err = await connectHybridVsock({ ...opts(), udsPath: uds }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VsockHandshakeError);
    expect((err as Error).message).toContain('HELLO THERE');
    expect(srv.connections()).toBe(1);
  });

  it('rejects an over-long line without a newline', async () => {
    await serve((s) => s.write('OK ' + '9'.repeat(100)));
    const err = await connectHybridVsock({ ...opts(), udsPath: uds }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VsockHandshakeError);
    expect((err as Error).message).toMatch(/longer than 32 bytes/);
  });

  it('rejects an OK line with a non-numeric port', async () => {
    await serve((s) => s.write('OK port\n'));
    await expect(connectHybridVsock({ ...opts(), udsPath: uds })).rejects.toBeInstanceOf(VsockHandshakeError);
  });

  it('honours AbortSignal promptly, with its reason', async () => {
    await serve(() => undefined);
    const ac = new AbortController();
    const reason = new Error('session cancelled');
    setTimeout(() => ac.abort(reason), 100);
    const t0 = Date.now();
    await expect(connectHybridVsock({ ...opts(5_000), udsPath: uds, signal: ac.signal })).rejects.toBe(reason);
    expect(Date.now() - t0).toBeLessThan(500);
  });

  it('HybridVsockChannel connects to its port', async () => {
    const srv = await serve((s) => s.write('OK 9\n'));
    const stream = await new HybridVsockChannel(uds, 10023).connect({
      signal: AbortSignal.timeout(5_000),
      timeoutMs: 2_000,
    });
    expect(srv.firstChunks).toEqual(['CONNECT 10023\n']);
    stream.destroy();
  });
});
