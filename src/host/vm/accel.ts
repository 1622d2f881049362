/**
 * Honest accelerator choice for QEMU. `/dev/kvm` existing is not enough (on these machines it is a
 * paravirtual device that hangs or dies on a stock guest), so `auto` boots a tiny test guest under KVM
 * (kvmCanRunGuest). The verdict is cached per host boot, QEMU binary and /dev/kvm identity, so only the
 * first run after a reboot pays for the check.
 */
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { writeFileAtomic } from '../store/atomic-file.js';
import { join } from 'node:path';
import type { Accel } from './driver.js';
import type { KvmCheckResult } from './kvm-check.js';

export interface AccelChoice {
  accel: Accel;
  /** One line for the user when we fell back (or were told to use something odd). */
  notice?: string;
}

function cacheKey(qemuBin: string): string {
  let bootId = 'unknown';
  let kvm = 'absent';
  try {
    bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    /* not Linux? then the check decides alone */
  }
  try {
    const st = statSync('/dev/kvm');
    kvm = `${st.rdev}:${st.ctimeMs}`;
  } catch {
    /* absent */
  }
  return `${bootId}|${qemuBin}|${kvm}`;
}

async function cachedKvmCheck(stateDir: string, qemuBin: string): Promise<KvmCheckResult> {
  const file = join(stateDir, 'kvm-check.json');
  const key = cacheKey(qemuBin);
  try {
    const cached = JSON.parse(readFileSync(file, 'utf8')) as { key: string; result: KvmCheckResult };
    if (cached.key === key) return cached.result;
  } catch {
    /* no or unreadable cache: check */
  }
  const { kvmCanRunGuest } = await import('./kvm-check.js');
  const result = await kvmCanRunGuest({ qemuBin });
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  writeFileAtomic(file, JSON.stringify({ key, result }));
  return result;
}

export async function chooseAccel(requested: 'auto' | Accel, stateDir: string, qemuBin: string): Promise<AccelChoice> {
  if (requested === 'tcg') return { accel: 'tcg' };
  if (requested === 'kvm') return { accel: 'kvm' };
  const check = await cachedKvmCheck(stateDir, qemuBin);
  if (check.ok) return { accel: 'kvm' };
  return {
    accel: 'tcg',
    notice:
      'KVM cannot run a guest here; using TCG software emulation (slower). `virtualghost doctor` says why; accel = "tcg" skips this check.',
  };
}
