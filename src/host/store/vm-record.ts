/**
 * What `ps` shows about a VM, written into its per-VM dir once the VM is ready (the owner record says who
 * holds it; this says what it is). Supervised VMs (named or detached) also record their supervisor's socket.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as v from 'valibot';
import { validPorts, type PublishedPort } from '../ports/spec.js';
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
  /** Published ports (`-p`, `port NAME add`), as they are now. */
  ports?: PublishedPort[];
  /** Shared host dirs (`-v`, `mounts`). */
  mounts?: Array<{ host: string; guest: string; readonly: boolean }>;
}

/** What readVmRecord accepts: a field of the wrong type (a hand-edited or damaged file) is no record. */
const VmRecordSchema = v.object({
  name: v.string(),
  backend: v.string(),
  accel: v.string(),
  vcpus: v.number(),
  memoryMiB: v.number(),
  imageId: v.string(),
  startedAt: v.number(),
  readyMs: v.number(),
  restoredFrom: v.optional(v.string()),
  supervised: v.boolean(),
  keep: v.optional(v.boolean()),
  // Checked entry by entry (validPorts): one bad entry drops that entry, not the record.
  ports: v.optional(v.array(v.unknown())),
  mounts: v.optional(v.array(v.object({ host: v.string(), guest: v.string(), readonly: v.boolean() }))),
});

export function writeVmRecord(dir: string, rec: VmRecord): void {
  writeFileAtomic(join(dir, VM_RECORD_FILE), `${JSON.stringify(rec, null, 2)}\n`);
}

export function readVmRecord(dir: string): VmRecord | undefined {
  try {
    const parsed = v.safeParse(VmRecordSchema, JSON.parse(readFileSync(join(dir, VM_RECORD_FILE), 'utf8')));
    if (!parsed.success) return undefined;
    const { ports, ...rec } = parsed.output;
    // Printed by `ps` and `port`: only well-formed entries.
    return ports !== undefined ? { ...rec, ports: validPorts(ports as PublishedPort[]) } : rec;
  } catch {
    return undefined;
  }
}

/** Records the VM's published ports as they are now (the record is written when the VM is ready). */
export function recordPorts(dir: string, ports: readonly PublishedPort[]): void {
  const rec = readVmRecord(dir);
  if (rec) writeVmRecord(dir, { ...rec, ports: [...ports] });
}
