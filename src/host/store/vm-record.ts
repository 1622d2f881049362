/**
 * What `ps` shows about a VM, written into its per-VM dir once the VM is ready (the owner record says who
 * holds it; this says what it is). Supervised VMs (named or detached) also record their supervisor's socket.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';
import { INSTANCE_FILES } from './instance-files.js';

export const VM_RECORD_FILE = INSTANCE_FILES.vmRecord;

export interface VmRecord {
  name: string;
  backend: string;
  accel: string;
  vcpus: number;
  memoryMiB: number;
  imageId: string;
  /** ms since epoch when the VMM was spawned. */
  startedAt: number;
  /** Spawn → SSH ready, ms. */
  readyMs: number;
  /** Warm snapshot key it was restored from, if any. */
  restoredFrom?: string;
  /** Held by a supervisor (named/detached) rather than by one CLI command. */
  supervised: boolean;
  /** Disk kept after stop (`run --keep`). */
  keep?: boolean;
}

export function writeVmRecord(dir: string, rec: VmRecord): void {
  writeFileAtomic(join(dir, VM_RECORD_FILE), `${JSON.stringify(rec, null, 2)}\n`);
}

export function readVmRecord(dir: string): VmRecord | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, VM_RECORD_FILE), 'utf8')) as VmRecord;
  } catch {
    return undefined;
  }
}
