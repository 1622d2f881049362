import { readFileSync } from 'node:fs';

/** The host TSC frequency in kHz, from /proc/cpuinfo's `cpu MHz` (what a TCG guest's TSC runs at). */
export function hostTscKhz(cpuinfo = readFileSync('/proc/cpuinfo', 'utf8')): number | undefined {
  const mhz = /^cpu MHz\s*:\s*([\d.]+)/m.exec(cpuinfo)?.[1];
  return mhz === undefined ? undefined : Math.round(Number(mhz) * 1000);
}
