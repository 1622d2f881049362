// Fuzzes the supervisor's wire protocol (supervisor/protocol.ts): the request line, the frame decoder and
// the EXIT and LOST payloads. Valid frames and requests, mutated (truncated, bit-flipped, huge lengths) and split
// into reads at random, may only ever raise ProtocolViolationError; the decoder gives the same frames
// however the stream is split and never holds a frame's worth more than the protocol allows; readLine
// settles on every input and never accepts a line over its limit.
import { PassThrough } from 'node:stream';
import * as v from 'valibot';
import { expect, it } from 'vitest';
import {
  encodeShellFrame,
  FRAME,
  ShellFrameDecoder,
  lostPayload,
  MAX_FRAME,
  parseExitStatus,
  parseLost,
  parseRequest,
  readLine,
  RequestSchema,
  resizePayload,
} from '../../src/host/supervisor/protocol.js';
import { ProtocolViolationError } from '../../src/shared/errors.js';
import { mutateBytes, randomBytes, split } from './gen.js';
import { FUZZ_TIMEOUT_MS, int, pick, runFuzz, runFuzzAsync, type Rng } from './rng.js';

const HEADER = 5;

function onlyViolation<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch (err) {
    if (err instanceof ProtocolViolationError) return undefined;
    throw err;
  }
}

const exits = [
  '{"code":0,"signal":null}',
  '{"code":null,"signal":"SIGKILL"}',
  '{"code":255,"signal":null}',
  'null',
  '[]',
  '{"code":"0"}',
  '{"code":1.5,"signal":null}',
];

function frames(rng: Rng): Buffer {
  const out: Buffer[] = [];
  for (let k = int(rng, 6); k >= 0; k--) {
    const r = int(rng, 6);
    if (r === 0) out.push(encodeShellFrame(FRAME.DATA, randomBytes(rng, int(rng, 300))));
    else if (r === 1) out.push(encodeShellFrame(FRAME.RESIZE, resizePayload(int(rng, 0x10000), int(rng, 0x10000))));
    else if (r === 2) out.push(encodeShellFrame(FRAME.EXIT, Buffer.from(pick(rng, exits))));
    else if (r === 3) out.push(encodeShellFrame(FRAME.DROP, Buffer.from('you fell too far behind')));
    else if (r === 4)
      out.push(
        encodeShellFrame(FRAME.LOST, int(rng, 2) === 0 ? lostPayload('the VM died') : Buffer.from(pick(rng, exits))),
      );
    else out.push(encodeShellFrame(FRAME.DATA, Buffer.alloc(int(rng, 8) === 0 ? 70_000 : 0, 0x41)));
  }
  const wire = Buffer.concat(out);
  return int(rng, 3) === 0
    ? wire
    : mutateBytes(rng, wire, [
        Buffer.from([FRAME.DATA, 0, 0x10, 0, 0]),
        Buffer.from([FRAME.EXIT, 0xff, 0xff, 0xff, 0xff]),
        Buffer.from([9]),
        Buffer.from([FRAME.LOST, 0, 0, 0, 2, 0x7b]),
      ]);
}

/** Decodes `reads` in order; returns the frames seen and whether the decoder refused the stream. */
function decodeAll(reads: Buffer[]): { frames: string[]; refused: boolean } {
  const dec = new ShellFrameDecoder();
  const seen: string[] = [];
  try {
    for (const r of reads) {
      dec.push(r, (type, payload) => {
        seen.push(`${type}:${payload.toString('hex')}`);
        if (type === FRAME.EXIT) onlyViolation(() => parseExitStatus(payload));
        if (type === FRAME.LOST && typeof parseLost(payload) !== 'string') throw new Error('parseLost gave no message');
      });
      if (dec.heldBytes >= HEADER + MAX_FRAME) throw new Error(`decoder holds ${dec.heldBytes} bytes`);
    }
  } catch (err) {
    if (!(err instanceof ProtocolViolationError)) throw err;
    return { frames: seen, refused: true };
  }
  return { frames: seen, refused: false };
}

it(
  'frames: the same frames however the stream is split, only ProtocolViolationError, bounded',
  async () => {
    await runFuzz('supervisor frames', 2000, (rng, _i, show) => {
      const wire = frames(rng);
      show(wire.length > 2000 ? wire.subarray(0, 2000) : wire);
      const whole = decodeAll([wire]);
      expect(decodeAll(split(rng, wire))).toEqual(whole);
    });
  },
  FUZZ_TIMEOUT_MS,
);

const requests = [
  '{"op":"status"}',
  '{"op":"stop"}',
  '{"op":"processes"}',
  '{"op":"open","cols":80,"rows":24}',
  '{"op":"open","tab":3,"cols":4096,"rows":1}',
  '{"op":"ports"}',
  '{"op":"port-add","port":{"hostIp":"127.0.0.1","hostPort":8080,"guestPort":80}}',
  '{"op":"port-rm","hostPort":8080}',
];

it(
  'request line: a valid Request or a ProtocolViolationError, nothing else',
  async () => {
    await runFuzz('supervisor request', 3000, (rng, _i, show) => {
      const line =
        int(rng, 4) === 0
          ? randomBytes(rng, int(rng, 40)).toString('utf8')
          : mutateBytes(rng, Buffer.from(pick(rng, requests)), [
              Buffer.from('"op"'),
              Buffer.from('"tab":'),
              Buffer.from('-1'),
              Buffer.from('1e999'),
              Buffer.from('{"__proto__":{"op":"stop"}}'),
            ]).toString('utf8');
      show(line);
      const req = onlyViolation(() => parseRequest(line));
      if (req !== undefined) expect(v.is(RequestSchema, req)).toBe(true);
      onlyViolation(() => parseExitStatus(Buffer.from(line)));
    });
  },
  FUZZ_TIMEOUT_MS,
);

it(
  'readLine: settles on every input, never accepts a line over its limit',
  async () => {
    const max = 64;
    await runFuzzAsync('supervisor readLine', 2000, async (rng, _i, show) => {
      const data =
        int(rng, 2) === 0
          ? randomBytes(rng, int(rng, 200))
          : mutateBytes(rng, Buffer.from(`${pick(rng, requests)}\n\x01\x00\x00\x00\x00`), [
              Buffer.from('\n'),
              Buffer.alloc(60, 0x78),
            ]);
      show(data);
      const s = new PassThrough();
      const pending = readLine(s, max);
      for (const r of split(rng, data)) s.write(r);
      s.end();
      const nl = data.indexOf(0x0a);
      const result = await pending.then(
        (ok) => ok,
        (err: unknown) => err as Error,
      );
      if (nl >= 0 && nl <= max) {
        expect(result).not.toBeInstanceOf(Error);
        const { line, rest } = result as { line: string; rest: Buffer };
        expect(line).toBe(data.subarray(0, nl).toString('utf8'));
        expect(Buffer.compare(rest, data.subarray(nl + 1, nl + 1 + rest.length))).toBe(0);
      } else {
        expect(result).toBeInstanceOf(Error);
      }
    });
  },
  FUZZ_TIMEOUT_MS,
);
