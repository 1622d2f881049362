/**
 * `--review` around a throw-away session (`run` and `exec`): the workspace is copied in before the body
 * (the shell or the command) starts, its changes collected when the body has ended while the VM still
 * runs, and the review held once the VM is gone. The body's status stays the command's exit status; a
 * review that fails exits 78 (ReviewFailedError). A VM lost during the session loses its changes.
 */
import { constants } from 'node:os';
import type { VmSession } from '../session.js';
import type { Terminal } from '../review/choose.js';
import type { ReviewSpec } from '../review/spec.js';
import { Workspace, type Collected } from '../review/workspace.js';
import { SessionVmLostError } from '../session-errors.js';
import { notice } from './context.js';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

type Body = (s: VmSession, signal: AbortSignal) => Promise<number>;

export async function reviewedSession(
  review: ReviewSpec | undefined,
  term: Terminal | undefined,
  withSession: (body: Body) => Promise<number>,
  body: Body,
): Promise<number> {
  if (!review) return await withSession(body);
  const ws = new Workspace(review, notice);
  let collected: Collected | undefined;
  const status = await withSession(async (session, signal) => {
    if (!session.ssh) throw new SessionVmLostError('no SSH connection');
    await ws.copyIn(session.ssh);
    const s = await body(session, signal);
    collected = await ws.collect(session.ssh);
    return s;
  });
  if (!collected) return status;
  // A signal while the review runs (e.g. at the pager) still removes the staged change set.
  const staged = collected.staging;
  const onSignal = (sig: NodeJS.Signals): void => {
    staged.remove();
    process.exit(128 + (constants.signals[sig] ?? 1));
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  try {
    await ws.conclude(collected, status, term);
  } finally {
    for (const s of SIGNALS) process.removeListener(s, onSignal);
  }
  return status;
}
