/**
 * Removes what dead sessions left behind: per-VM dirs whose owning process is gone, after killing a
 * VMM still running from such a dir (only if its pid, start time and command line prove it is ours).
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { assertPrivateVmsDir } from './private-dir.js';
import { OWNER_FILE, cmdlineOf, isAlive, readOwner, type ProcessIdentity } from './process-identity.js';

export interface CleanReport {
  removedDirs: string[];
  killedPids: number[];
  /** Helper processes (the NAT) that had outlived their VM. */
  killedHelpers: number[];
  inUse: string[];
}

export async function cleanStaleVms(vmsDir: string): Promise<CleanReport> {
  const report: CleanReport = { removedDirs: [], killedPids: [], killedHelpers: [], inUse: [] };
  // clean deletes what it finds: in a runtime tree another user could swap (a vms/ symlinked at your own
  // files), it would delete whatever that user pointed it at.
  assertPrivateVmsDir(vmsDir);
  if (!existsSync(vmsDir)) return report;
  for (const name of readdirSync(vmsDir)) {
    const dir = join(vmsDir, name);
    const owner = readOwner(join(dir, OWNER_FILE));
    if (owner && isAlive(owner.host)) {
      report.inUse.push(name);
      continue;
    }
    const killed = await removeDeadVmDir(dir, report.killedHelpers);
    if (killed !== undefined) report.killedPids.push(killed);
    report.removedDirs.push(name);
  }
  return report;
}

/**
 * Removes one per-VM dir whose owner is dead, first killing a VMM still running from it — only if its
 * pid, start time and command line prove it is ours. Returns the pid it killed, if any.
 */
export async function removeDeadVmDir(dir: string, killedHelpers: number[] = []): Promise<number | undefined> {
  const owner = readOwner(join(dir, OWNER_FILE));
  // A claimed pooled clone's processes name the dir they started in, not this one.
  const named = typeof owner?.origin === 'string' ? [dir, owner.origin] : [dir];
  const killed = owner?.vmm && (await killIfOurs(owner.vmm, named)) ? owner.vmm.pid : undefined;
  // The NAT (passt) dies with its VMM by itself; a leftover one is ended under the same proof.
  for (const helper of Array.isArray(owner?.helpers) ? owner.helpers : [])
    if (await killIfOurs(helper, named)) killedHelpers.push(helper.pid);
  rmSync(dir, { recursive: true, force: true });
  return killed;
}

/** SIGKILLs `id` if it still runs with a command line that names one of `dirs`; true if it did. */
async function killIfOurs(id: ProcessIdentity, dirs: readonly string[]): Promise<boolean> {
  if (!isAlive(id) || !cmdlineOf(id.pid).some((arg) => dirs.some((dir) => arg.includes(dir)))) return false;
  process.kill(id.pid, 'SIGKILL');
  for (let i = 0; i < 100 && isAlive(id); i++) await new Promise((r) => setTimeout(r, 20));
  return true;
}
