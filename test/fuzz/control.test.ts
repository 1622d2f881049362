// Fuzzes the control stream's parsers: random and mutated frames, chunked at random, must yield only
// ProtocolViolationError, and the splitter must never hold more than MAX_CONTROL_LINE pending.
import { expect, it } from 'vitest';
import {
  encodeFrame,
  LineSplitter,
  MAX_CONTROL_LINE,
  parseAgentFrame,
  parseHostFrame,
} from '../../src/shared/control.js';
import { ProtocolViolationError } from '../../src/shared/errors.js';
import { FUZZ_TIMEOUT_MS, int, pick, runFuzz, type Rng } from './rng.js';

const seeds = [
  encodeFrame({ type: 'stats', cpuPercent: 1, memUsedBytes: 2, memTotalBytes: 3, uptimeSec: 4 }),
  encodeFrame({ type: 'agent-hello', protocol: 1, version: '0.1.0', pid: 7, bootId: 'b', starts: 1 }),
  encodeFrame({ type: 'agent-exited' }),
  encodeFrame({ type: 'poweroff' }),
  '{"type":"session","clientKey":"ssh-ed25519 AAAA","timeMs":1,"entropy":"eA=="}\n',
];
const alphabet = '{}[]":,\\\n0123456789.-eEtruefalsnl typeagent-hello\u00e9\u{1f600}\u0000';

function mutate(rng: Rng, s: string): string {
  let out = s;
  for (let k = int(rng, 6); k > 0; k--) {
    const at = int(rng, out.length + 1);
    const op = int(rng, 4);
    if (op === 0) out = out.slice(0, at) + out.slice(at + 1 + int(rng, 8));
    else if (op === 1) out = out.slice(0, at) + pick(rng, [...alphabet]) + out.slice(at);
    else if (op === 2)
      out = out.slice(0, at) + 'x'.repeat(int(rng, 3) === 0 ? MAX_CONTROL_LINE : int(rng, 40)) + out.slice(at);
    else out = out.slice(0, at) + pick(rng, seeds) + out.slice(at);
  }
  return out;
}

const onlyViolation = (f: () => unknown): void => {
  try {
    f();
  } catch (err) {
    if (!(err instanceof ProtocolViolationError)) throw err;
  }
};

it(
  'control frames and LineSplitter only ever throw ProtocolViolationError and stay bounded',
  async () => {
    await runFuzz('control', 300, (rng, _i, show) => {
      const text = Array.from({ length: 1 + int(rng, 4) }, () => mutate(rng, pick(rng, seeds))).join('');
      show(text);
      const splitter = new LineSplitter();
      let at = 0;
      try {
        while (at < text.length) {
          const n = 1 + int(rng, int(rng, 2) === 0 ? 16 : 100_000);
          for (const line of splitter.push(text.slice(at, at + n))) {
            expect(line.length).toBeLessThanOrEqual(MAX_CONTROL_LINE);
            onlyViolation(() => parseAgentFrame(line));
            onlyViolation(() => parseHostFrame(line));
          }
          expect((splitter as unknown as { pending: string }).pending.length).toBeLessThanOrEqual(MAX_CONTROL_LINE);
          at += n;
        }
      } catch (err) {
        if (!(err instanceof ProtocolViolationError)) throw err;
      }
    });
  },
  FUZZ_TIMEOUT_MS,
);
