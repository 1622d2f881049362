/** `pool start | status | stop`: the standby pool of warm VMs (README: Standby pool). */
import type { ConfigKey } from '../config/schema.js';
import { escapeControl } from '../../shared/escape-control.js';
import { PoolNotRunningError } from '../pool/errors.js';
import { poolPaths } from '../pool/files.js';
import { launchPool } from '../pool/launch.js';
import { poolRequest, type PoolStatus } from '../pool/pool-protocol.js';
import { ghostPaths } from '../store/paths.js';
import { assertPrivateDir } from '../store/private-dir.js';
import { cliContext, notice } from './context.js';

export async function poolStart(o: { size?: string; idle?: string }): Promise<number> {
  const flags: Partial<Record<ConfigKey, unknown>> = { 'pool.size': o.size, 'pool.idle_timeout': o.idle };
  const ctx = cliContext(flags); // a bad --size or --idle is refused here (65), before anything starts
  const abort = new AbortController();
  const onSig = (): void => abort.abort(new Error('interrupted'));
  process.once('SIGINT', onSig);
  try {
    const { pid, readyMs } = await launchPool({ flags, signal: abort.signal, onNotice: notice });
    const v = ctx.config.values;
    process.stdout.write(
      `pool ready: ${readyMs.length} VM${readyMs.length === 1 ? '' : 's'} (${v.vcpus} vCPU, ${v.memory}M), pid ${pid}, stops after ${v['pool.idle_timeout']} s without a claim\n`,
    );
    return 0;
  } finally {
    process.removeListener('SIGINT', onSig);
  }
}

async function ask<R>(req: { op: 'status' } | { op: 'stop' }, timeoutMs: number): Promise<R> {
  const pool = poolPaths(ghostPaths());
  assertPrivateDir(pool.dir);
  try {
    return await poolRequest<R>(pool.socket, req, timeoutMs);
  } catch {
    throw new PoolNotRunningError('no standby pool is running; `virtualghost pool start` starts one');
  }
}

const mib = (kib: number): string => `${(kib / 1024).toFixed(0)} MiB`;

export async function poolStatus(o: { json?: boolean }): Promise<number> {
  const s = await ask<PoolStatus>({ op: 'status' }, 15_000);
  if (o.json) {
    process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
    return 0;
  }
  const ready = s.clones.filter((c) => c.state === 'ready').length;
  const lines = [
    `pool pid ${s.pid}: ${ready} of ${s.size} ready (${s.backend}/${s.accel}, ${s.vcpus} vCPU, ${s.memoryMiB}M, net ${s.net}, image ${s.imageId})`,
    `claims: ${s.claims}; stops after ${s.idleLeftSec} s more without a claim (idle timeout ${s.idleTimeoutSec} s)`,
    `cost while idle (over ${(s.cost.windowMs / 1000).toFixed(1)} s): host CPU ${s.cost.cpuPercent}% of a core, RSS ${mib(s.cost.rssKiB)}, PSS ${mib(s.cost.pssKiB)}, VMM wakeups ${s.cost.vmmWakeupsPerSec}/s`,
    ...s.clones.map((c) => `  ${c.name}  ${c.state}${c.readyMs !== null ? `  ready in ${c.readyMs} ms` : ''}`),
  ];
  for (const l of lines) process.stdout.write(`${escapeControl(l)}\n`);
  return 0;
}

export async function poolStop(): Promise<number> {
  await ask({ op: 'stop' }, 30_000);
  process.stdout.write('pool stopped\n');
  return 0;
}
