/**
 * Structure-aware input generation shared by the fuzzers: random bytes, mutations of valid messages
 * (truncation, bit flips, inserted and duplicated runs, spliced-in tokens, huge or edge u32 lengths) and
 * random splitting of a stream into reads.
 */
import { int, pick, type Rng } from './rng.js';

export function randomBytes(rng: Rng, n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = int(rng, 256);
  return out;
}

const EDGE_U32 = [
  0,
  1,
  4,
  5,
  0x7f,
  0xff,
  0x100,
  0xffff,
  0x10000,
  (1 << 20) - 1,
  1 << 20,
  (1 << 20) + 1,
  0x7fffffff,
  0x80000000,
  0xffffffff,
];

/** 1–6 mutations of `seed`; `tokens` are byte strings worth splicing in (markers, headers, keywords). */
export function mutateBytes(rng: Rng, seed: Buffer, tokens: readonly Buffer[] = []): Buffer {
  let out = Buffer.from(seed);
  for (let k = 1 + int(rng, 6); k > 0; k--) {
    const at = int(rng, out.length + 1);
    switch (int(rng, 8)) {
      case 0:
        out = out.subarray(0, at);
        break; // truncate
      case 1:
        if (out.length > 0) {
          const j = int(rng, out.length);
          out[j] = (out[j] ?? 0) ^ (1 << int(rng, 8));
        }
        break; // bit flip
      case 2:
        out = Buffer.concat([out.subarray(0, at), randomBytes(rng, int(rng, 16)), out.subarray(at)]);
        break;
      case 3:
        out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1 + int(rng, 8))]);
        break; // delete a run
      case 4: {
        const from = int(rng, out.length + 1);
        out = Buffer.concat([out.subarray(0, at), out.subarray(from, from + int(rng, 32)), out.subarray(at)]);
        break;
      } // duplicate
      case 5:
        if (tokens.length > 0) out = Buffer.concat([out.subarray(0, at), pick(rng, tokens), out.subarray(at)]);
        break;
      case 6:
        if (out.length >= 4) {
          out = Buffer.from(out);
          out.writeUInt32BE(pick(rng, EDGE_U32), int(rng, out.length - 3));
        }
        break; // huge / edge length
      default:
        out = Buffer.concat([
          out.subarray(0, at),
          Buffer.alloc(int(rng, 8) === 0 ? 70_000 : int(rng, 64), int(rng, 256)),
          out.subarray(at),
        ]); // a long run
    }
  }
  return out;
}

/**
 * Cuts `data` into reads: whole, one byte each, or at random points. A long run is cut into at most a
 * few hundred reads: a byte at a time through 70 kB only costs time.
 */
export function split(rng: Rng, data: Buffer): Buffer[] {
  let mode = int(rng, 4);
  if (mode === 1 && data.length > 512) mode = 2;
  if (mode === 0 || data.length === 0) return [data];
  const small = Math.max(8, Math.ceil(data.length / 200));
  const out: Buffer[] = [];
  let at = 0;
  while (at < data.length) {
    const n = mode === 1 ? 1 : 1 + int(rng, mode === 2 ? small : 4096);
    out.push(data.subarray(at, at + n));
    at += n;
  }
  return out;
}
