/**
 * Starts a VM's supervisor as a detached process (its own session: closing the terminal does not touch
 * it) and relays its start-up — notices, image build progress, the outcome — to this command. Ctrl-C
 * while it starts stops it, and nothing is left.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { escapeControlLines } from '../../shared/escape-control.js';
import type { BuildProgress } from '../image/build.js';
import type { ConfigKey } from '../config/schema.js';
import type { PublishedPort } from '../ports/spec.js';
import { SupervisorStartError } from './errors.js';
import type { LaunchMessage } from './main.js';
import { isErrorCode } from '../../shared/error-codes.js';
import { selfCommand } from '../install/self-command.js';

/** How much of the supervisor's stderr a failed start shows (its last lines). */
const STDERR_TAIL_CHARS = 4_000;

export interface LaunchOptions {
  name: string;
  flags: Partial<Record<ConfigKey, unknown>>;
  publish: readonly PublishedPort[];
  keep: boolean;
  cold: boolean;
  signal: AbortSignal;
  onNotice?: (line: string) => void;
  onProgress?: (p: BuildProgress) => void;
  onPhase?: (phase: string) => void;
}

export async function launchSupervisor(opts: LaunchOptions): Promise<{ readyMs: number; pid: number }> {
  const [file, ...self] = selfCommand();
  const args = [
    ...self,
    '__supervise',
    opts.name,
    '--flags',
    JSON.stringify(opts.flags),
    ...(opts.publish.length ? ['--publish', JSON.stringify(opts.publish)] : []),
    ...(opts.keep ? ['--keep'] : []),
    ...(opts.cold ? ['--cold'] : []),
  ];
  // stderr is ours while it starts: what it says there (its log before the per-VM dir exists, or a crash
  // of Node itself) is shown if it fails. Once it is ready we let go of the pipe; it ignores a broken one.
  const child = spawn(file, args, { detached: true, stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
  const pid = child.pid ?? 0;
  let stderrTail = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderrTail = (stderrTail + d).slice(-STDERR_TAIL_CHARS);
  });
  const onAbort = (): void => {
    child.kill('SIGTERM');
  };
  opts.signal.addEventListener('abort', onAbort, { once: true });
  let outcome: LaunchMessage | undefined;
  try {
    const lines = createInterface({ input: child.stdio[3] as Readable });
    for await (const line of lines) {
      let m: LaunchMessage;
      try {
        m = JSON.parse(line) as LaunchMessage;
      } catch {
        continue;
      }
      if (m.t === 'notice') opts.onNotice?.(m.line);
      else if (m.t === 'progress') opts.onProgress?.(m.p as BuildProgress);
      else if (m.t === 'phase') opts.onPhase?.(m.phase);
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
    return { readyMs: outcome.readyMs, pid };
  }
  // Failed or interrupted: the supervisor cleans up after itself; wait for that before reporting.
  if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));
  // Its last words may still be in the pipe (a helper it started could hold the pipe open: do not wait on that).
  if (child.stderr && !child.stderr.readableEnded)
    await Promise.race([
      new Promise((r) => child.stderr?.once('end', r)),
      new Promise((r) => setTimeout(r, 1_000).unref()),
    ]);
  child.stderr?.destroy();
  opts.signal.throwIfAborted();
  const said = stderrTail.trim() ? `\nIts log:\n${escapeControlLines(stderrTail.trimEnd())}` : '';
  if (outcome?.t === 'error') {
    // Our own supervisor wrote it, but it is still bytes from a pipe: an unknown code is an internal error.
    const code = isErrorCode(outcome.code) ? outcome.code : 'INTERNAL';
    throw new SupervisorStartError(code, `${outcome.message}${code === 'INTERNAL' ? said : ''}`);
  }
  const hint = said || `; try \`virtualghost run ${opts.name}\` with VIRTUALGHOST_DEBUG=1`;
  throw new SupervisorStartError(
    'SUPERVISOR_REQUEST_FAILED',
    `the supervisor of ${opts.name} exited while starting (status ${child.exitCode ?? child.signalCode})${hint}`,
  );
}
