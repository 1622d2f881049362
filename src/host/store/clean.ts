/**
 * Removes what dead sessions left behind: per-VM dirs whose owning process is gone, after killing a
 * VMM still running from such a dir (only if its pid, start time and command line prove it is ours).
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { assertPrivateVmsDir } from './private-dir.js';
import { OWNER_FILE, cmdlineOf, isAlive, readOwner } from './process-identity.js';

export interface CleanReport {
  removedDirs: string[];
  killedPids: number[];
  inUse: string[];
}

export async function cleanStaleVms(vmsDir: string): Promise<CleanReport> {
  const report: CleanReport = { removedDirs: [], killedPids: [], inUse: [] };
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
    const killed = await removeDeadVmDir(dir);
    if (killed !== undefined) report.killedPids.push(killed);
    report.removedDirs.push(name);
  }
  return report;
}

/**
 * Removes one per-VM dir whose owner is dead, first killing a VMM still running from it — only if its
 * pid, start time and command line prove it is ours. Returns the pid it killed, if any.
 */
export async function removeDeadVmDir(dir: string): Promise<number | undefined> {
  const vmm = readOwner(join(dir, OWNER_FILE))?.vmm;
  let killed: number | undefined;
  if (vmm && isAlive(vmm) && cmdlineOf(vmm.pid).some((arg) => arg.includes(dir))) {
    process.kill(vmm.pid, 'SIGKILL');
    killed = vmm.pid;
    for (let i = 0; i < 100 && isAlive(vmm); i++) await new Promise((r) => setTimeout(r, 20));
  }
  rmSync(dir, { recursive: true, force: true });
  return killed;
}
