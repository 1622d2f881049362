/**
 * Starts the pool process detached (its own session, like a supervisor) and, for `pool start`, relays its
 * start-up until every clone is ready. `autostart` starts it without waiting for anything.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { escapeControlLines } from '../../shared/escape-control.js';
import { isErrorCode } from '../../shared/error-codes.js';
import type { ConfigKey } from '../config/schema.js';
import type { GhostPaths } from '../store/paths.js';
import { SupervisorStartError } from '../supervisor/errors.js';
import { poolMayRun } from './claim.js';
import type { PoolLaunchMessage } from './pool-protocol.js';

const BIN = fileURLToPath(new URL('../../../bin/virtualghost.js', import.meta.url));

export async function launchPool(opts: {
  flags: Partial<Record<ConfigKey, unknown>>;
  signal: AbortSignal;
  onNotice?: (line: string) => void;
}): Promise<{ pid: number; readyMs: number[] }> {
  const child = spawn(process.execPath, [BIN, '__pool', '--flags', JSON.stringify(opts.flags)], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  let stderrTail = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderrTail = (stderrTail + d).slice(-4000)));
  const onAbort = (): void => void child.kill('SIGTERM');
  opts.signal.addEventListener('abort', onAbort, { once: true });
  let outcome: PoolLaunchMessage | undefined;
  try {
    for await (const text of createInterface({ input: child.stdio[3] as Readable })) {
      let m: PoolLaunchMessage;
      try {
        m = JSON.parse(text) as PoolLaunchMessage;
      } catch {
        continue;
      }
      if (m.t === 'notice') opts.onNotice?.(m.line);
      else {
        outcome = m;
        break;
      }
    }
  } finally {
    opts.signal.removeEventListener('abort', onAbort);
    (child.stdio[3] as Readable | null)?.destroy();
  }
  if (outcome?.t === 'ready') {
    child.stderr?.destroy();
    child.unref();
    return { pid: child.pid ?? 0, readyMs: outcome.readyMs };
  }
  if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));
  child.stderr?.destroy();
  opts.signal.throwIfAborted();
  if (outcome?.t === 'error')
    throw new SupervisorStartError(isErrorCode(outcome.code) ? outcome.code : 'INTERNAL', outcome.message);
  const said = stderrTail.trim() ? `:\n${escapeControlLines(stderrTail.trimEnd())}` : '';
  throw new SupervisorStartError('SUPERVISOR_REQUEST_FAILED', `the pool process exited while starting${said}`);
}

/** pool.autostart: a pool for later runs, started in the background unless one runs; never waited for. */
export function autostartPool(paths: GhostPaths): void {
  if (poolMayRun(paths)) return;
  const child = spawn(process.execPath, [BIN, '__pool', '--flags', '{}'], { detached: true, stdio: 'ignore' });
  child.on('error', () => undefined);
  child.unref();
}
