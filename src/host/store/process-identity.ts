/**
 * A pid alone can be reused; pid + start time (field 22 of /proc/<pid>/stat) names one process. Stored
 * in each per-VM dir so `clean` only ever kills processes that are verifiably ours.
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from './atomic-file.js';
import { INSTANCE_FILES } from './instance-files.js';

/** The owner record in every per-VM dir: which process holds the VM, and its VMM. */
export const OWNER_FILE = INSTANCE_FILES.owner;

export interface ProcessIdentity {
  pid: number;
  start: number;
}

function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may hold spaces and parentheses: fields resume after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

export function startTimeOf(pid: number): number | undefined {
  const f = statFields(pid);
  return f ? Number(f[19]) : undefined;
}

/** CPU time the process has used (utime + stime), in clock ticks (1/100 s). */
export function cpuTicksOf(pid: number): number | undefined {
  const f = statFields(pid);
  return f ? Number(f[11]) + Number(f[12]) : undefined;
}

export function identify(pid: number): ProcessIdentity | undefined {
  const start = startTimeOf(pid);
  return start === undefined ? undefined : { pid, start };
}

/**
 * The very process still runs. A zombie does not: it is dead and merely not reaped yet (an orphan whose
 * new parent, e.g. a container's PID 1, does not reap).
 */
export function isAlive(id: ProcessIdentity | undefined): boolean {
  if (id === undefined) return false;
  const f = statFields(id.pid);
  return f !== undefined && Number(f[19]) === id.start && f[0] !== 'Z' && f[0] !== 'X';
}

export function cmdlineOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

export interface OwnerRecord {
  host: ProcessIdentity;
  vmm?: ProcessIdentity;
  /** Processes beside the VMM (the NAT), ended by `clean` under the same proof as the VMM. */
  helpers?: ProcessIdentity[];
  backend: string;
  createdAt: string;
  /** The dir the VMM and helpers were started in, if the VM's dir was moved since (a claimed pooled clone). */
  origin?: string;
}

export function writeOwner(file: string, rec: OwnerRecord): void {
  writeFileAtomic(file, JSON.stringify(rec));
}

export function readOwner(file: string): OwnerRecord | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as OwnerRecord;
  } catch {
    return undefined;
  }
}
