/**
 * Which VMs exist, derived from the per-VM dirs (running ones, including throw-away runs) and the kept
 * ones in the state dir — never from a separate list that could go stale. A VM whose owner process is gone
 * is `dead` (left behind by a SIGKILL) until `clean` removes it.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { OWNER_FILE, isAlive, readOwner, type OwnerRecord } from '../store/process-identity.js';
import type { GhostPaths } from '../store/paths.js';
import { readVmRecord, type VmRecord } from '../store/vm-record.js';
import { assertPrivateDir, assertPrivateVmsDir } from '../store/private-dir.js';
import { isVmName, validateVmName } from '../store/instance-dir.js';
import { listKept, readKept, type KeptVm } from './kept.js';
import { SupervisorNoSuchVmError } from './errors.js';
import { savedStateBytes as savedStateBytesOf } from './saved-state.js';
import { SUPERVISOR_SOCKET } from './protocol.js';

export type VmEntryState = 'starting' | 'running' | 'dead' | 'stopped';

export interface VmEntry {
  name: string;
  state: VmEntryState;
  /** Per-VM runtime dir (absent for a stopped kept VM). */
  dir?: string;
  owner?: OwnerRecord;
  record?: VmRecord;
  kept?: KeptVm;
  /** A stopped kept VM that was saved as it ran (saved-state.ts): `run NAME` resumes it. The state's size. */
  savedStateBytes?: number;
  supervised: boolean;
}

export function supervisorSocket(dir: string): string {
  return join(dir, SUPERVISOR_SOCKET);
}

/** Every verb that names a VM comes through here (or findNamedVm): an invalid name is refused alike. */
export function findVm(paths: GhostPaths, name: string): VmEntry | undefined {
  validateVmName(name);
  assertPrivateVmsDir(paths.vmsDir);
  return entryOf(paths, name);
}

/** One VM's entry, once the runtime base and vms/ are known to be private (findVm, listVms). */
function entryOf(paths: GhostPaths, name: string): VmEntry | undefined {
  const dir = join(paths.vmsDir, name);
  assertPrivateDir(dir);
  const kept = readKept(paths, name);
  if (existsSync(dir)) {
    const owner = readOwner(join(dir, OWNER_FILE));
    const record = readVmRecord(dir);
    const state: VmEntryState = !owner || !isAlive(owner.host) ? 'dead' : record ? 'running' : 'starting';
    return {
      name,
      state,
      dir,
      supervised: record?.supervised ?? existsSync(supervisorSocket(dir)),
      ...(owner ? { owner } : {}),
      ...(record ? { record } : {}),
      ...(kept ? { kept } : {}),
    };
  }
  const savedStateBytes = kept ? savedStateBytesOf(paths, name) : undefined;
  return kept
    ? { name, state: 'stopped', kept, supervised: true, ...(savedStateBytes !== undefined ? { savedStateBytes } : {}) }
    : undefined;
}

/** findVm, for commands that name a VM: no such VM is an error that says where to look. */
export function requireVm(paths: GhostPaths, name: string): VmEntry {
  const entry = findVm(paths, name);
  if (!entry) throw new SupervisorNoSuchVmError(`there is no VM named ${name}; see \`virtualghost ps\``);
  return entry;
}

export function listVms(paths: GhostPaths): VmEntry[] {
  assertPrivateVmsDir(paths.vmsDir);
  const names = new Set<string>(listKept(paths));
  if (existsSync(paths.vmsDir)) for (const n of readdirSync(paths.vmsDir)) names.add(n);
  // Our temp dirs start with '.'; anything else that is not a VM name was never made by us.
  for (const n of names) if (!isVmName(n)) names.delete(n);
  return [...names].sort().flatMap((n) => entryOf(paths, n) ?? []);
}
