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
  reviews: readonly ReviewSpec[],
  term: Terminal | undefined,
  withSession: (body: Body) => Promise<number>,
  body: Body,
): Promise<number> {
  if (!reviews.length) return await withSession(body);
  const workspaces = reviews.map((r) => new Workspace(r, notice));
  let collected: Collected[] | undefined;
  const status = await withSession(async (session, signal) => {
    if (!session.ssh) throw new SessionVmLostError('no SSH connection');
    for (const ws of workspaces) await ws.copyIn(session.ssh);
    const s = await body(session, signal);
    const all: Collected[] = [];
    for (const ws of workspaces) all.push(await ws.collect(session.ssh));
    collected = all;
    return s;
  });
  if (!collected) return status;
  // A signal while the review runs (e.g. at the pager) still removes the staged change sets.
  const staged = collected.map((c) => c.staging);
  const onSignal = (sig: NodeJS.Signals): void => {
    for (const s of staged) s.remove();
    process.exit(128 + (constants.signals[sig] ?? 1));
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  try {
    // One review after the other, each of its own directory; the first that fails ends the rest (their
    // staged copies go), as a failed apply must not be followed by others the user has not seen.
    for (const [i, ws] of workspaces.entries()) {
      try {
        await ws.conclude(collected[i] as Collected, status, term);
      } catch (err) {
        for (const s of staged.slice(i + 1)) s.remove();
        throw err;
      }
    }
  } finally {
    for (const s of SIGNALS) process.removeListener(s, onSignal);
  }
  return status;
}
