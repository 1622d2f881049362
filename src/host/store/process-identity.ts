/**
 * A pid alone can be reused; pid + start time (field 22 of /proc/<pid>/stat) names one process. Stored
 * in each per-VM dir so `clean` only ever kills processes that are verifiably ours.
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from './atomic-file.js';

/** The owner record in every per-VM dir: which process holds the VM, and its VMM. */
export const OWNER_FILE = 'owner.json';

export interface ProcessIdentity {
  pid: number;
  start: number;
}

export function startTimeOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may hold spaces and parentheses: fields resume after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(rest[19]);
  } catch {
    return undefined;
  }
}

export function identify(pid: number): ProcessIdentity | undefined {
  const start = startTimeOf(pid);
  return start === undefined ? undefined : { pid, start };
}

export function isAlive(id: ProcessIdentity | undefined): boolean {
  return id !== undefined && startTimeOf(id.pid) === id.start;
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
  backend: string;
  createdAt: string;
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
