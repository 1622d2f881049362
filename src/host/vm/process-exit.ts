/**
 * TERM-then-KILL for a VMM child, and the parent-death wrapper that guarantees no orphans: the VMM is
 * spawned through `setpriv --pdeathsig KILL`, so if our process dies (even by SIGKILL) the kernel kills
 * the VMM. umask 077 makes every socket the VMM creates 0600 from the first instant.
 */
import type { ChildProcess } from 'node:child_process';
import type { VmExit } from './driver.js';

export function guardedCommand(bin: string, args: readonly string[]): { cmd: string; args: string[] } {
  return { cmd: '/bin/sh', args: ['-c', 'umask 077 && exec setpriv --pdeathsig KILL -- "$0" "$@"', bin, ...args] };
}

/** How a VMM process ended, for messages: "exit status 1" or "killed by SIGKILL". */
export function describeExit(e: VmExit): string {
  return e.signal ? `killed by ${e.signal}` : `exit status ${e.code}`;
}

export function exitPromise(child: ChildProcess): Promise<VmExit> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

const within = <T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> =>
  Promise.race([p, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms).unref())]);

/** Waits `graceMs` for a graceful exit already asked for, then TERM, then KILL. */
export async function terminate(child: ChildProcess, exited: Promise<VmExit>, graceMs: number, termMs = 2000): Promise<VmExit> {
  if ((await within(exited, graceMs)) !== 'timeout') return await exited;
  child.kill('SIGTERM');
  if ((await within(exited, termMs)) !== 'timeout') return await exited;
  child.kill('SIGKILL');
  return await exited;
}
