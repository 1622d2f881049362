/** The host CPU's model name: part of a snapshot's identity where the guest sees the host's CPU (KVM, Firecracker). */
import { readFileSync } from 'node:fs';

export function hostCpuModel(cpuinfo = '/proc/cpuinfo'): string {
  try {
    return /^model name\s*:\s*(.+)$/m.exec(readFileSync(cpuinfo, 'utf8'))?.[1]?.trim() ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
