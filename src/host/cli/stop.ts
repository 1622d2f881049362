/**
 * `stop NAME… | --all`: ends VMs — a supervised one through its supervisor (which removes everything, or
 * keeps the disk with --keep), a throw-away run by signalling the command that holds it (which cleans up
 * as on Ctrl-C), and a dead one's leftovers like `clean`. Waits until the per-VM dir is gone.
 */
import { existsSync, realpathSync } from 'node:fs';
import { removeDeadVmDir } from '../store/clean.js';
import type { GhostPaths } from '../store/paths.js';
import { cmdlineOf, isAlive } from '../store/process-identity.js';
import { request } from '../supervisor/client.js';
import { SupervisorStateError } from '../supervisor/errors.js';
import { listVms, requireVm, supervisorSocket } from '../supervisor/registry.js';
import { ghostPaths } from '../store/paths.js';
import { errorMessage } from '../../shared/errors.js';
import { escapeControl } from '../../shared/escape-control.js';
import { notice } from './context.js';
import { removeSavedState } from '../supervisor/saved-state.js';
import { exitCodeFor } from './exit-codes.js';

const STOP_TIMEOUT_MS = 30_000;

/** Whether pid runs the same Node executable as we do (the CLI, a supervisor, or a host embedding us). */
function runsOurNode(pid: number): boolean {
  try {
    return realpathSync(`/proc/${pid}/exe`) === realpathSync(process.execPath);
  } catch {
    return false;
  }
}

/**
 * A kept VM is saved as it runs (`run NAME` resumes it) unless `discardState`, which keeps only its disk,
 * and also drops the saved state of one already stopped.
 */
export async function stopVm(
  paths: GhostPaths,
  name: string,
  opts: { discardState?: boolean } = {},
): Promise<'stopped' | 'already-stopped' | 'state-discarded'> {
  const entry = requireVm(paths, name);
  if (entry.state === 'stopped' && opts.discardState && entry.savedStateBytes !== undefined) {
    removeSavedState(paths, name);
    return 'state-discarded';
  }
  if (entry.state === 'stopped' || !entry.dir) return 'already-stopped';
  const dir = entry.dir;
  const owner = entry.owner;
  if (entry.state === 'dead') {
    await removeDeadVmDir(dir);
    return 'stopped';
  }
  let asked = false;
  if (entry.supervised && existsSync(supervisorSocket(dir))) {
    asked = await request(supervisorSocket(dir), {
      op: 'stop',
      ...(opts.discardState ? { discardState: true } : {}),
    }).then(
      () => true,
      () => false,
    );
  }
  if (!asked && owner && isAlive(owner.host)) {
    // owner.json is only a claim: a process with the recorded pid and start time that is not a Node
    // running VirtualGhost (a planted record, or a reused pid) is never signalled.
    if (!runsOurNode(owner.host.pid)) {
      throw new SupervisorStateError(
        `VM ${name}'s owner record names pid ${owner.host.pid}, which is not a VirtualGhost process (${escapeControl(cmdlineOf(owner.host.pid).join(' ') || '?')}); not signalling it. Remove ${dir} if it is not yours`,
      );
    }
    process.kill(owner.host.pid, 'SIGTERM');
  }
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (existsSync(dir) && Date.now() < deadline) {
    if (owner && !isAlive(owner.host)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (existsSync(dir) && owner && isAlive(owner.host)) {
    throw new SupervisorStateError(
      `VM ${name} did not stop within ${STOP_TIMEOUT_MS / 1000} s (pid ${owner.host.pid}); \`kill ${owner.host.pid}\` then \`virtualghost clean\``,
    );
  }
  return 'stopped';
}

export async function stopCommand(names: string[], opts: { all?: boolean; discardState?: boolean }): Promise<number> {
  const paths = ghostPaths();
  const targets = opts.all
    ? listVms(paths)
        .filter((e) => e.state !== 'stopped')
        .map((e) => e.name)
    : names;
  if (!opts.all && targets.length === 0) throw new SupervisorStateError('name the VMs to stop, or use --all');
  const how = opts.discardState ? { discardState: true } : {};
  const results = await Promise.allSettled(targets.map(async (n) => ({ n, r: await stopVm(paths, n, how) })));
  let failed: unknown;
  for (const r of results) {
    if (r.status === 'fulfilled') process.stdout.write(r.value.r !== 'already-stopped' ? `${r.value.n}\n` : '');
    if (r.status === 'fulfilled' && r.value.r === 'state-discarded')
      notice(`${r.value.n}: its saved state is discarded; \`virtualghost run ${r.value.n}\` boots its disk cold`);
    if (r.status === 'fulfilled' && r.value.r === 'already-stopped') notice(`${r.value.n} is not running`);
    if (r.status === 'rejected') {
      failed ??= r.reason;
      process.stderr.write(`virtualghost: error: ${errorMessage(r.reason)}\n`);
    }
  }
  return failed === undefined ? 0 : exitCodeFor(failed);
}
