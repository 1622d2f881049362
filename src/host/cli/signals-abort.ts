/** An AbortSignal that fires on SIGINT/SIGTERM/SIGHUP while `body` runs; then exit 128+N like other verbs. */
import { constants } from 'node:os';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export async function abortOnSignals<T>(body: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const abort = new AbortController();
  let got: NodeJS.Signals | undefined;
  const on = (sig: NodeJS.Signals): void => {
    got ??= sig;
    abort.abort(new Error(`interrupted by ${sig}`));
  };
  for (const s of SIGNALS) process.on(s, on);
  try {
    return await body(abort.signal);
  } catch (err) {
    if (got) process.exit(128 + (constants.signals[got] ?? 1));
    throw err;
  } finally {
    for (const s of SIGNALS) process.removeListener(s, on);
  }
}
