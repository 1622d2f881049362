/**
 * VMs started with `--keep` outlive `stop`: their writable layer and last logs live in the state dir,
 * `<state>/vms/<name>/`, with the size they ran at, until `rm NAME`. `run NAME` boots them again from it.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../store/atomic-file.js';
import { INSTANCE_FILES, VMM_AND_SUPERVISOR_LOGS } from '../store/instance-files.js';
import { ensurePrivateDir } from '../store/private-dir.js';
import type { GhostPaths } from '../store/paths.js';

export interface KeptVm {
  name: string;
  vcpus: number;
  memoryMiB: number;
  imageId: string;
  stoppedAt?: string;
}

const META = 'kept.json';
export const KEPT_DISK = 'disk.qcow2';
export const KEPT_LOGS = [INSTANCE_FILES.console, ...VMM_AND_SUPERVISOR_LOGS] as const;

export function keptDir(paths: GhostPaths, name: string): string {
  return join(paths.stateDir, 'vms', name);
}

export function readKept(paths: GhostPaths, name: string): KeptVm | undefined {
  try {
    return JSON.parse(readFileSync(join(keptDir(paths, name), META), 'utf8')) as KeptVm;
  } catch {
    return undefined;
  }
}

export function listKept(paths: GhostPaths): string[] {
  const root = join(paths.stateDir, 'vms');
  if (!existsSync(root)) return [];
  return readdirSync(root).filter((n) => readKept(paths, n) !== undefined);
}

/** Creates the kept VM's directory (0700) and records its size; returns where its disk lives. */
export function prepareKept(paths: GhostPaths, vm: KeptVm): { disk: string; exists: boolean } {
  ensurePrivateDir(join(paths.stateDir, 'vms'));
  const dir = keptDir(paths, vm.name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileAtomic(join(dir, META), `${JSON.stringify(vm, null, 2)}\n`);
  const disk = join(dir, KEPT_DISK);
  return { disk, exists: existsSync(disk) };
}

/** At stop: the last logs go beside the disk so `logs NAME` still works for the stopped VM. */
export function saveKeptLogs(paths: GhostPaths, name: string, vmDir: string): void {
  const dir = keptDir(paths, name);
  for (const f of KEPT_LOGS) {
    try {
      copyFileSync(join(vmDir, f), join(dir, f));
    } catch {
      // a log the backend does not write
    }
  }
  const meta = readKept(paths, name);
  if (meta)
    writeFileAtomic(join(dir, META), `${JSON.stringify({ ...meta, stoppedAt: new Date().toISOString() }, null, 2)}\n`);
}

export function removeKept(paths: GhostPaths, name: string): void {
  rmSync(keptDir(paths, name), { recursive: true, force: true });
}
