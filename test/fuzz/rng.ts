/**
 * A tiny seeded PRNG (mulberry32) so every fuzz run is reproducible: the seed is printed on failure and
 * VG_FUZZ_SEED replays it; VG_FUZZ_CASES sets how many cases each fuzzer runs (small inside `npm test`).
 */
export type Rng = () => number;

export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const fuzzCases = (dflt: number): number => Number(process.env.VG_FUZZ_CASES ?? dflt);
export const fuzzSeed = (): number => (process.env.VG_FUZZ_SEED !== undefined ? Number(process.env.VG_FUZZ_SEED) : Date.now() >>> 0);

export const int = (rng: Rng, n: number): number => Math.floor(rng() * n);
export const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[int(rng, xs.length)] as T;

/** Runs `cases` cases of `body`, each with its own derived seed; a failure names the seed to replay it. */
export function runFuzz(name: string, dflt: number, body: (rng: Rng, i: number) => void): void {
  const seed = fuzzSeed();
  const rng = mulberry32(seed);
  const n = fuzzCases(dflt);
  for (let i = 0; i < n; i++) {
    try {
      body(rng, i);
    } catch (err) {
      throw new Error(`${name}: case ${i} failed; replay with VG_FUZZ_SEED=${seed}`, { cause: err });
    }
  }
}
