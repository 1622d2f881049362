/**
 * What a pool costs while it waits: the host CPU and memory of every process it keeps (the pool, each
 * clone's keeper, VMM and NAT), measured from /proc over a short window. The VMM's context switches per
 * second stand for the guest's idle wakeups: under TCG each guest timer interrupt wakes the VMM's vCPU
 * thread, so a guest idle in NO_HZ shows a handful per second, a busy loop hundreds.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { cpuTicksOf } from '../store/process-identity.js';

export interface PoolCost {
  /** Host CPU of all the pool's processes over the window, % of one core. */
  cpuPercent: number;
  rssKiB: number;
  pssKiB: number;
  /** Context switches of the VMMs' threads per second, summed over the clones. */
  vmmWakeupsPerSec: number;
  windowMs: number;
}

const TICKS_PER_SEC = 100;

function rollup(pid: number): { rss: number; pss: number } {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
    return { rss: kib('Rss'), pss: kib('Pss') };
  } catch {
    return { rss: 0, pss: 0 };
  }
}

/** Voluntary + involuntary context switches of every thread of `pid`. */
function switchesOf(pid: number): number {
  let n = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      for (const m of status.matchAll(/^(?:non)?voluntary_ctxt_switches:\s+(\d+)$/gm)) n += Number(m[1]);
    }
  } catch {
    // gone meanwhile: counts nothing
  }
  return n;
}

export async function measurePoolCost(
  pids: readonly number[],
  vmmPids: readonly number[],
  windowMs = 2000,
): Promise<PoolCost> {
  const ticks = (): number => pids.reduce((sum, p) => sum + (cpuTicksOf(p) ?? 0), 0);
  const switches = (): number => vmmPids.reduce((sum, p) => sum + switchesOf(p), 0);
  const [t0, s0, at0] = [ticks(), switches(), Date.now()];
  await new Promise((r) => setTimeout(r, windowMs));
  const [t1, s1, ms] = [ticks(), switches(), Date.now() - at0];
  const mem = pids.map(rollup);
  return {
    cpuPercent: Math.round(((t1 - t0) / TICKS_PER_SEC / (ms / 1000)) * 1000) / 10,
    rssKiB: mem.reduce((s, m) => s + m.rss, 0),
    pssKiB: mem.reduce((s, m) => s + m.pss, 0),
    vmmWakeupsPerSec: Math.round(((s1 - s0) / (ms / 1000)) * 10) / 10,
    windowMs: ms,
  };
}
