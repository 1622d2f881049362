// Fuzzes the virtio-serial hello scan (channel/hello-scanner.ts): whatever a hostile guest sends before,
// around or instead of GUEST_HELLO, split into reads at random, the scan finds exactly the first hello,
// hands back exactly what follows it, and never holds more than a hello's length in between.
import { expect, it } from 'vitest';
import { HelloScanner } from '../../src/host/channel/hello-scanner.js';
import { GUEST_HELLO, HOST_HELLO } from '../../src/shared/ports.js';
import { mutateBytes, randomBytes, split } from './gen.js';
import { FUZZ_TIMEOUT_MS, int, pick, runFuzz, type Rng } from './rng.js';

const hello = Buffer.from(GUEST_HELLO, 'latin1');
const tokens = [
  hello,
  hello.subarray(0, 1 + Math.floor(hello.length / 2)),
  hello.subarray(0, hello.length - 1),
  Buffer.from(HOST_HELLO, 'latin1'),
  Buffer.from('\x01\x01ghostly-guest-hello\x02\x02\n', 'latin1'),
];

function stream(rng: Rng): Buffer {
  const parts: Buffer[] = [];
  for (let k = int(rng, 5); k >= 0; k--) {
    const r = int(rng, 4);
    parts.push(
      r === 0
        ? randomBytes(rng, int(rng, 200))
        : r === 1
          ? pick(rng, tokens)
          : mutateBytes(rng, pick(rng, tokens), tokens),
    );
  }
  return Buffer.concat(parts);
}

it(
  'the hello scan finds the first hello across any split, returns what follows, and stays bounded',
  async () => {
    await runFuzz('virtio-serial hello', 4000, (rng, _i, show) => {
      const data = stream(rng);
      show(data);
      const at = data.indexOf(hello);
      const scanner = new HelloScanner(hello);
      let rest: Buffer | undefined;
      const chunks = split(rng, data);
      let used = 0;
      for (const chunk of chunks) {
        used += chunk.length;
        rest = scanner.push(chunk);
        if (rest !== undefined) break;
        if (scanner.heldBytes >= hello.length) throw new Error(`holds ${scanner.heldBytes} bytes`);
      }
      if (at < 0) {
        expect(rest).toBeUndefined();
        return;
      }
      expect(rest).toBeDefined();
      // The scan stops at the read that completed the hello; the rest of that read is the new stream.
      expect(Buffer.compare(rest ?? Buffer.alloc(0), data.subarray(at + hello.length, used))).toBe(0);
    });
  },
  FUZZ_TIMEOUT_MS,
);
