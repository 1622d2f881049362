/**
 * prefix-q's question: quitting destroys the VM, so the user is asked while programs run in it — and also
 * when that cannot be checked. A failed check never counts as "nothing running".
 */
import { errorMessage } from '../../shared/errors.js';
import type { TuiBackend } from './types.js';

/** How long prefix-q waits for the guest to say what is running before asking without knowing. */
const PROCESS_QUERY_TIMEOUT_MS = 5_000;

/**
 * What quitting would kill: a count, or why it could not be checked (the query failed, timed out, or gave
 * no count). Only a count of 0 quits without asking; a backend with no way to ask (a local test shell) is 0.
 */
export async function quitCheck(
  backend: Pick<TuiBackend, 'runningProcessCount'>,
  timeoutMs = PROCESS_QUERY_TIMEOUT_MS,
): Promise<number | { unknown: string }> {
  if (!backend.runningProcessCount) return 0;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  try {
    const count = await Promise.race([backend.runningProcessCount(), timeout]);
    return Number.isSafeInteger(count) && count >= 0 ? count : { unknown: `not a count: ${String(count)}` };
  } catch (err) {
    return { unknown: errorMessage(err) };
  } finally {
    clearTimeout(timer);
  }
}

export function quitQuestion(processes: number | { unknown: string }): string {
  if (typeof processes === 'number')
    return `${processes} process${processes === 1 ? '' : 'es'} running — quit and destroy the VM? (y/n)`;
  return `could not check for running programs — quit and destroy the VM? (y/n) (${processes.unknown})`;
}
