/**
 * The standby pool's figures (`npm run bench -- --only pool`), each beside its baseline from the same
 * run: `exec -- true` from a fresh CLI process with a warm pool against the same command without one, a
 * session → shell prompt from the pool against a warm restore, the idle cost of a pool of 1 (from
 * `pool status`), and back-to-back claims (5 execs started 0.5 s apart: how many the pool served).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { LoadedConfig } from '../config/load.js';
import { packageRoot } from '../image/project-files.js';
import { poolMayRun } from '../pool/claim.js';
import { poolPaths } from '../pool/files.js';
import { launchPool } from '../pool/launch.js';
import { poolRequest, type PoolStatus } from '../pool/pool-protocol.js';
import { VmSession } from '../session.js';
import type { GhostPaths } from '../store/paths.js';
import { cliExecTrueMs } from './warm-figures.js';
import { promptMs } from './vm-figures.js';

export interface PoolFigures {
  execWithPoolS: number[];
  execWithoutPoolS: number[];
  promptFromPoolMs: number[];
  promptWarmMs: number[];
  idle: PoolStatus['cost'];
  backToBackHits: number;
}

const status = (paths: GhostPaths): Promise<PoolStatus> =>
  poolRequest<PoolStatus>(poolPaths(paths).socket, { op: 'status' }, 15_000);

async function untilReady(paths: GhostPaths): Promise<PoolStatus> {
  for (;;) {
    const s = await status(paths);
    if (s.clones.some((c) => c.state === 'ready')) return s;
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function sessionPrompt(config: LoadedConfig, paths: GhostPaths, pool: boolean): Promise<number> {
  const s = await VmSession.start({ config, paths, signal: new AbortController().signal, pool });
  try {
    return await promptMs(s);
  } finally {
    await s.close();
  }
}

function execTrue(): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [join(packageRoot(), 'bin', 'virtualghost.js'), 'exec', '--', 'true'], {
      stdio: 'ignore',
      env: { ...process.env, VIRTUALGHOST_ACCEL: 'tcg' },
    });
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`exec -- true exited with ${code}`))));
  });
}

export async function poolFigures(
  config: LoadedConfig,
  paths: GhostPaths,
  runs: number,
  log: (m: string) => void,
): Promise<PoolFigures> {
  if (poolMayRun(paths)) throw new Error('a standby pool is running: `virtualghost pool stop` it before the bench');
  log(`pool: ${runs} × \`exec -- true\` and session → prompt without a pool (baselines)`);
  const execWithoutPoolS: number[] = [];
  const promptWarmMs: number[] = [];
  for (let i = 0; i < runs; i++) execWithoutPoolS.push((await cliExecTrueMs(false)) / 1000);
  for (let i = 0; i < runs; i++) promptWarmMs.push(await sessionPrompt(config, paths, false));
  log('pool: starting a pool of 1');
  await launchPool({ flags: { 'pool.size': 1, 'pool.idle_timeout': 1800 }, signal: new AbortController().signal });
  try {
    const idle = (await untilReady(paths)).cost;
    log(`pool: ${runs} × \`exec -- true\` and session → prompt, each from a ready pool`);
    const execWithPoolS: number[] = [];
    const promptFromPoolMs: number[] = [];
    for (let i = 0; i < runs; i++) {
      await untilReady(paths);
      execWithPoolS.push((await cliExecTrueMs(false)) / 1000);
    }
    for (let i = 0; i < runs; i++) {
      await untilReady(paths);
      promptFromPoolMs.push(await sessionPrompt(config, paths, true));
    }
    log('pool: 5 execs started 0.5 s apart');
    const before = (await untilReady(paths)).claims;
    const execs: Promise<void>[] = [];
    for (let i = 0; i < 5; i++) {
      execs.push(execTrue());
      await new Promise((r) => setTimeout(r, 500));
    }
    await Promise.all(execs);
    const backToBackHits = (await status(paths)).claims - before;
    return { execWithPoolS, execWithoutPoolS, promptFromPoolMs, promptWarmMs, idle, backToBackHits };
  } finally {
    await poolRequest(poolPaths(paths).socket, { op: 'stop' }, 30_000).catch(() => undefined);
  }
}
