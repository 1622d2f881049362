// Fuzzes the hybrid-vsock CONNECT/OK handshake (channel/vsock-ack.ts, channel/fc-vsock.ts). Whatever the
// vsock socket answers (valid OK lines, mutated ones, garbage, huge runs), split into reads at random:
// the reader decides exactly what the whole answer decides, never holds more than MAX_ACK_LINE_BYTES,
// and the connector over a real Unix socket ends in a stream, a VsockHandshakeError or a
// VsockConnectTimeoutError — nothing else, and never a hang.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { VsockConnectTimeoutError, VsockHandshakeError } from '../../src/host/channel/fc-vsock-errors.js';
import { connectHybridVsock } from '../../src/host/channel/fc-vsock.js';
import { AckReader, MAX_ACK_LINE_BYTES, type AckResult } from '../../src/host/channel/vsock-ack.js';
import { mutateBytes, randomBytes, split } from './gen.js';
import { FUZZ_TIMEOUT_MS, int, pick, runFuzz, runFuzzAsync, type Rng } from './rng.js';

const valid = ['OK 1073741824\n', 'OK 0\n', 'OK 4294967295\n', 'OK 1\nSSH-2.0-x\r\n', 'OK 9999999999\n'].map((s) =>
  Buffer.from(s, 'latin1'),
);
const tokens = [
  Buffer.from('\n'),
  Buffer.from('OK '),
  Buffer.from('\r\n'),
  Buffer.from('CONNECT 10022\n'),
  Buffer.from('OK 12345678901\n'),
];

function answer(rng: Rng): Buffer {
  const r = int(rng, 5);
  if (r === 0) return randomBytes(rng, int(rng, 80));
  if (r === 1) return Buffer.concat([pick(rng, valid), randomBytes(rng, int(rng, 40))]);
  return mutateBytes(rng, pick(rng, valid), tokens);
}

/** What the whole answer, read at once, decides: the reference the split reads must agree with. */
function decide(data: Buffer): AckResult['kind'] {
  const nl = data.indexOf(0x0a);
  if (nl === -1) return data.length > MAX_ACK_LINE_BYTES ? 'bad' : 'more';
  return nl <= MAX_ACK_LINE_BYTES && /^OK [0-9]{1,10}$/.test(data.subarray(0, nl).toString('latin1')) ? 'ok' : 'bad';
}

it(
  'the OK reader decides as the whole answer does, across any split, and stays bounded',
  async () => {
    await runFuzz('vsock ack', 5000, (rng, _i, show) => {
      const data = answer(rng);
      show(data);
      const want = decide(data);
      const reader = new AckReader();
      let got: AckResult = { kind: 'more' };
      let used = 0;
      for (const chunk of split(rng, data)) {
        used += chunk.length;
        got = reader.push(chunk);
        if (got.kind !== 'more') break;
        if (reader.heldBytes > MAX_ACK_LINE_BYTES) throw new Error(`holds ${reader.heldBytes} bytes`);
      }
      expect(got.kind).toBe(want);
      if (got.kind === 'ok') expect(Buffer.compare(got.rest, data.subarray(data.indexOf(0x0a) + 1, used))).toBe(0);
    });
  },
  FUZZ_TIMEOUT_MS,
);

let dir: string;
let uds: string;
let server: Server;
let script: (s: Socket) => void = (s) => s.end();
const open = new Set<Socket>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vg-fuzz-vsock-'));
  uds = join(dir, 'v.sock');
  server = createServer((s) => {
    open.add(s);
    s.on('close', () => open.delete(s));
    s.on('error', () => undefined);
    s.once('data', () => script(s));
  });
  await new Promise<void>((r) => server.listen(uds, () => r()));
});
afterAll(async () => {
  for (const s of open) s.destroy();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

/** Writes the reads one event-loop turn apart so they reach the client as separate reads, then ends. */
function writeReads(s: Socket, reads: Buffer[]): void {
  const next = (): void => {
    const r = reads.shift();
    if (r === undefined) return void s.end();
    s.write(r, () => setImmediate(next));
  };
  next();
}

function readAll(stream: Duplex): Promise<Buffer> {
  return new Promise((resolve) => {
    const got: Buffer[] = [];
    stream.on('data', (c: Buffer) => got.push(c));
    stream.on('error', () => undefined);
    stream.on('close', () => resolve(Buffer.concat(got)));
  });
}

// Real sockets cost milliseconds per case, so this part runs at most 1000 cases even under `npm run fuzz`;
// the reader above takes the 10^5.
it(
  'the connector over a real socket gives a stream, a handshake error or a timeout, nothing else',
  async () => {
    await runFuzzAsync(
      'vsock connect',
      60,
      async (rng, _i, show) => {
        const data = answer(rng).subarray(0, 4096);
        show(data);
        const reads = split(rng, data);
        script = (s) => writeReads(s, [...reads]);
        const want = decide(data);
        const started = Date.now();
        try {
          // An answer that never completes costs the whole deadline, so only those get a short one; the others
          // get seconds, so a loaded machine cannot turn their answer into a timeout.
          const timeoutMs = want === 'more' ? 80 : 5_000;
          const stream = await connectHybridVsock({
            udsPath: uds,
            port: 10022,
            signal: AbortSignal.timeout(10_000),
            timeoutMs,
            attemptTimeoutMs: timeoutMs / 2,
            initialBackoffMs: 5,
            maxBackoffMs: 10,
          });
          expect(want).toBe('ok');
          expect(Buffer.compare(await readAll(stream), data.subarray(data.indexOf(0x0a) + 1))).toBe(0);
        } catch (err) {
          if (want === 'bad') expect(err).toBeInstanceOf(VsockHandshakeError);
          else if (want === 'more') expect(err).toBeInstanceOf(VsockConnectTimeoutError);
          else throw err;
        }
        expect(Date.now() - started).toBeLessThan(8_000);
      },
      1000,
    );
  },
  FUZZ_TIMEOUT_MS,
);
