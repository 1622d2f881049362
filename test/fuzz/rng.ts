/**
 * A tiny seeded PRNG (mulberry32) so every fuzz run is reproducible. Each case gets its own seed derived
 * from the run's seed and the case number, so one failing case replays alone:
 *   VG_FUZZ_SEED=<seed> VG_FUZZ_CASE=<n> npx vitest run test/fuzz/<file>
 * VG_FUZZ_CASES sets how many cases each fuzzer runs (small inside `npm test`, 10^5 under `npm run fuzz`).
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

export const fuzzCases = (dflt: number): number => Number(process.env['VG_FUZZ_CASES'] ?? dflt);
/** Per-test timeout: the suite's 120 s inside `npm test`; a long run (VG_FUZZ_CASES set) gets an hour. */
export const FUZZ_TIMEOUT_MS = process.env['VG_FUZZ_CASES'] !== undefined ? 3_600_000 : 120_000;
export const fuzzSeed = (): number =>
  process.env['VG_FUZZ_SEED'] !== undefined ? Number(process.env['VG_FUZZ_SEED']) : Date.now() >>> 0;

export const int = (rng: Rng, n: number): number => Math.floor(rng() * n);
export const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[int(rng, xs.length)] as T;

/** A case that runs this long is a hang or a quadratic blow-up, not a slow machine. */
const CASE_BUDGET_MS = Number(process.env['VG_FUZZ_CASE_MS'] ?? 2_000);

const caseSeed = (seed: number, i: number): number => (seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0;

/** How a failing case's input is printed: strings and bytes as JSON (escaped), cut to a readable size. */
function describeInput(input: unknown): string {
  const text =
    Buffer.isBuffer(input) || input instanceof Uint8Array
      ? `bytes(hex) ${Buffer.from(input).toString('hex')}`
      : JSON.stringify(input, (_k, val: unknown) => (Buffer.isBuffer(val) ? Buffer.from(val).toString('hex') : val));
  return text.length > 2000 ? `${text.slice(0, 2000)}… (${text.length} chars)` : text;
}

/**
 * Runs `cases` cases of `body`, each with its own derived seed. `show` records the case's input so a
 * failure prints it next to the seed and the case number that replay it. Yields to the event loop every
 * quarter second: a long synchronous run would starve the test worker's RPC (vitest's "Timeout calling
 * onTaskUpdate"). Callers must await it (an it() that does not returns before its cases have run).
 */
export async function runFuzz(
  name: string,
  dflt: number,
  body: (rng: Rng, i: number, show: (input: unknown) => void) => void,
): Promise<void> {
  const seed = fuzzSeed();
  const only = process.env['VG_FUZZ_CASE'];
  const n = fuzzCases(dflt);
  let lastYield = Date.now();
  for (let i = only !== undefined ? Number(only) : 0; only !== undefined ? i === Number(only) : i < n; i++) {
    let input: unknown;
    const started = Date.now();
    try {
      body(mulberry32(caseSeed(seed, i)), i, (x) => {
        input = x;
      });
      const took = Date.now() - started;
      if (took > CASE_BUDGET_MS)
        throw new Error(`case took ${took} ms (budget ${CASE_BUDGET_MS} ms): a hang or quadratic work`);
    } catch (err) {
      throw failure(name, seed, i, input, err);
    }
    if (Date.now() - lastYield > 250) {
      await new Promise((r) => setImmediate(r));
      lastYield = Date.now();
    }
  }
}

function failure(name: string, seed: number, i: number, input: unknown, err: unknown): Error {
  return new Error(
    `${name}: case ${i} failed: ${err instanceof Error ? err.message : String(err)}\n` +
      `  replay: VG_FUZZ_SEED=${seed} VG_FUZZ_CASE=${i}\n  input: ${input === undefined ? '(not recorded)' : describeInput(input)}`,
    { cause: err },
  );
}

/** Async variant for fuzzers that go through real sockets; `maxCases` caps even VG_FUZZ_CASES (each case costs ms). */
export async function runFuzzAsync(
  name: string,
  dflt: number,
  body: (rng: Rng, i: number, show: (input: unknown) => void) => Promise<void>,
  maxCases = Infinity,
): Promise<void> {
  const seed = fuzzSeed();
  const only = process.env['VG_FUZZ_CASE'];
  const n = Math.min(fuzzCases(dflt), maxCases);
  for (let i = only !== undefined ? Number(only) : 0; only !== undefined ? i === Number(only) : i < n; i++) {
    let input: unknown;
    try {
      await body(mulberry32(caseSeed(seed, i)), i, (x) => {
        input = x;
      });
    } catch (err) {
      throw failure(name, seed, i, input, err);
    }
  }
}
