/** Cheap guest load figures for the host's status line: two /proc reads a second. */
import { readFileSync } from 'node:fs';
import type { Stats } from '../shared/control.js';

interface CpuSample {
  busy: number;
  total: number;
}

function sampleCpu(): CpuSample {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}

function meminfo(): { total: number; available: number } {
  const text = readFileSync('/proc/meminfo', 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0) * 1024;
  return { total: kb('MemTotal'), available: kb('MemAvailable') };
}

export class StatsSampler {
  private last = sampleCpu();

  sample(): Stats {
    const now = sampleCpu();
    const dTotal = now.total - this.last.total;
    const cpuPercent = dTotal > 0 ? (100 * (now.busy - this.last.busy)) / dTotal : 0;
    this.last = now;
    const mem = meminfo();
    const uptimeSec = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    return {
      type: 'stats',
      cpuPercent: Math.round(cpuPercent * 10) / 10,
      memUsedBytes: mem.total - mem.available,
      memTotalBytes: mem.total,
      uptimeSec,
    };
  }
}
