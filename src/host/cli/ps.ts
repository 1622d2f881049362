/**
 * `ps [--json] [-q]`: every VM — supervised, throw-away runs, dead leftovers, and stopped kept ones. What
 * it prints comes from state files (vm.json, kept.json): text for the terminal goes through
 * escapeControl(), and the JSON escapes every control character (JSON.stringify leaves DEL and C1 raw).
 */
import { escapeControl } from '../../shared/escape-control.js';
import { request } from '../supervisor/client.js';
import type { StatusReply } from '../supervisor/protocol.js';
import { listVms, supervisorSocket, type VmEntry } from '../supervisor/registry.js';
import { ghostPaths } from '../store/paths.js';
import { formatPort, type PublishedPort } from '../ports/spec.js';

export interface PsRow {
  name: string;
  /** `suspended`: stopped and kept with its running state saved (`run NAME` resumes it). */
  state: VmEntry['state'] | 'suspended';
  /** 'supervised' (named/detached), 'throw-away' (held by one command), 'kept' (stopped, disk kept). */
  kind: 'supervised' | 'throw-away' | 'kept';
  backend: string | null;
  accel: string | null;
  vcpus: number | null;
  memoryMiB: number | null;
  startedAt: string | null;
  uptimeSec: number | null;
  /** Attached terminals (supervised VMs). */
  sessions: number | null;
  /** Persistent shells (supervised VMs). */
  shells: number | null;
  pid: number | null;
  keep: boolean;
  /** Published ports of a running VM (`-p`, `port NAME add`); empty otherwise. */
  ports: PublishedPort[];
  /** A suspended VM's saved state, in bytes; null otherwise. */
  savedStateBytes: number | null;
  /** Shared host dirs of a running VM (`-v`); empty otherwise. */
  mounts: Array<{ host: string; guest: string; readonly: boolean }>;
}

async function row(e: VmEntry): Promise<PsRow> {
  const r = e.record;
  let status: StatusReply | undefined;
  if (e.state === 'running' && e.supervised && e.dir)
    status = await request<StatusReply & Record<string, unknown>>(supervisorSocket(e.dir), { op: 'status' }).catch(
      () => undefined,
    );
  return {
    name: e.name,
    state: e.state === 'stopped' && e.savedStateBytes !== undefined ? 'suspended' : e.state,
    kind: e.state === 'stopped' ? 'kept' : e.supervised ? 'supervised' : 'throw-away',
    backend: r?.backend ?? null,
    accel: r?.accel ?? null,
    vcpus: r?.vcpus ?? e.kept?.vcpus ?? null,
    memoryMiB: r?.memoryMiB ?? e.kept?.memoryMiB ?? null,
    startedAt: r && e.state !== 'dead' ? new Date(r.startedAt).toISOString() : null,
    uptimeSec: r && e.state === 'running' ? Math.round((Date.now() - r.startedAt) / 1000) : null,
    sessions: status ? status.clients : null,
    shells: status ? status.tabs.length : null,
    pid: e.owner?.host.pid ?? null,
    keep: r?.keep ?? e.kept !== undefined,
    ports: e.state === 'running' ? (r?.ports ?? []) : [],
    savedStateBytes: e.savedStateBytes ?? null,
    mounts: e.state === 'running' ? (r?.mounts ?? []) : [],
  };
}

/** JSON.stringify escapes C0 controls only: DEL and C1 (e.g. U+009B, a one-character CSI) are escaped too. */
function jsonWithoutControls(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    /[\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function uptime(s: number | null): string {
  if (s === null) return '-';
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function mebibytes(bytes: number): string {
  return `${Math.max(1, Math.round(bytes / (1024 * 1024)))}M`;
}

export async function psCommand(opts: { json?: boolean; quiet?: boolean }): Promise<number> {
  const rows = await Promise.all(listVms(ghostPaths()).map(row));
  if (opts.json) {
    process.stdout.write(`${jsonWithoutControls(rows)}\n`);
    return 0;
  }
  if (opts.quiet) {
    for (const r of rows) process.stdout.write(`${escapeControl(r.name)}\n`);
    return 0;
  }
  const table = [['NAME', 'STATE', 'KIND', 'BACKEND', 'VCPUS', 'MEMORY', 'UPTIME', 'SESSIONS', 'PORTS', 'MOUNTS']];
  for (const r of rows) {
    table.push([
      r.name,
      r.savedStateBytes !== null ? `${r.state} (${mebibytes(r.savedStateBytes)})` : r.state,
      r.kind,
      r.backend ? `${r.backend}/${r.accel}` : '-',
      r.vcpus?.toString() ?? '-',
      r.memoryMiB !== null ? `${r.memoryMiB}M` : '-',
      uptime(r.uptimeSec),
      r.sessions !== null ? `${r.sessions} (${r.shells} shell${r.shells === 1 ? '' : 's'})` : '-',
      r.ports.map(formatPort).join(',') || '-',
      r.mounts.map((m) => `${m.host}:${m.guest}${m.readonly ? ':ro' : ''}`).join(',') || '-',
    ]);
  }
  for (const t of table) t.forEach((cell, i) => (t[i] = escapeControl(cell)));
  const widths = table[0]!.map((_, i) => Math.max(...table.map((t) => t[i]!.length)));
  for (const t of table)
    process.stdout.write(
      `${t
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd()}\n`,
    );
  if (rows.some((r) => r.state === 'dead'))
    process.stderr.write(
      'virtualghost: dead VMs are leftovers of a killed supervisor or command: `virtualghost clean` removes them\n',
    );
  return 0;
}
