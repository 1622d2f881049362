/**
 * Warm-start figures: a VM restored from the snapshot, step by step (the session's start trace), the
 * first shell prompt, `exec true` through the whole CLI (a fresh process, as a user runs it) warm and
 * cold, and a fleet restored at once.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type ssh2 from 'ssh2';
import type { LoadedConfig } from '../config/load.js';
import { packageRoot } from '../image/project-files.js';
import { VmSession } from '../session.js';
import type { GhostPaths } from '../store/paths.js';
import { openPtyShell } from '../session-tui-backend.js';
import { execRoundTripMs, pssBytes, rssBytes } from './vm-figures.js';
import { connectSsh } from '../ssh/client.js';
import { generateClientKey, type ClientKey } from '../ssh/keys.js';
import { QemuDriver } from '../vm/qemu/driver.js';

/** Opens a PTY shell the way the TUI does and marks 'shell channel open' and 'prompt' in the trace. */
export async function markPrompt(session: VmSession): Promise<void> {
  const ch = await openPtyShell(session.ssh as ssh2.Client, { cols: 80, rows: 24 });
  session.trace.mark('shell channel open');
  await new Promise<void>((resolve) => {
    let text = '';
    ch.on('data', (d: Buffer) => {
      text += d.toString();
      if (text.includes('root@ghost')) resolve();
    });
  });
  session.trace.mark('prompt');
  ch.close();
}

export interface WarmRun {
  /** Session start (API call) → prompt, and QEMU spawn → prompt, ms. */
  startToPrompt: number;
  spawnToPrompt: number;
  /** Session start → SSH ready, and QEMU spawn → SSH ready, ms. */
  startToReady: number;
  spawnToReady: number;
  /**
   * What a restore costs TCG: translation blocks made from the clone's start to SSH ready, and for one
   * more SSH connection to the same clone once its code paths are translated (with that connection's ms).
   */
  translatedToReady: number;
  anotherSsh: { ms: number; translated: number };
  /** The clone's QEMU RSS once its prompt is up. */
  qemuRssBytes: number;
  /** Each step of the start trace: label → ms since the previous mark. */
  steps: Array<[string, number]>;
}

/** TCG's current count of translated blocks (`info jit`): since a restore, every block it ran is new. */
async function translatedBlocks(driver: QemuDriver): Promise<number> {
  const text = String(await driver.monitor.execute('human-monitor-command', { 'command-line': 'info jit' }));
  const m = /TB count\s+(\d+)/.exec(text);
  if (!m) throw new Error(`no TB count in QEMU's info jit: ${text.slice(0, 200)}`);
  return Number(m[1]);
}

/** One more SSH connection to a running clone (its first pool port), timed from connect to authenticated. */
async function anotherSsh(s: VmSession, key: ClientKey): Promise<number> {
  const t0 = performance.now();
  const sock = await s.driver
    .sshPool()
    .channel(0)
    .connect({ signal: AbortSignal.timeout(30_000), timeoutMs: 30_000 });
  const client = await connectSsh({
    sock,
    privateKey: key.privateKey,
    pinnedHostKey: s.hostKey ?? '',
    timeoutMs: 30_000,
  });
  const ms = performance.now() - t0;
  client.end();
  return ms;
}

export async function warmRun(config: LoadedConfig, paths: GhostPaths): Promise<WarmRun> {
  const clientKey = generateClientKey();
  const s = await VmSession.start({ config, paths, signal: new AbortController().signal, clientKey });
  try {
    if (!s.restoredFrom) throw new Error('expected a warm restore, got a cold boot');
    if (!(s.driver instanceof QemuDriver)) throw new Error(`the warm bench runs QEMU, not ${s.driver.backend}`);
    s.trace.mark('ssh ready');
    const translatedToReady = await translatedBlocks(s.driver);
    await markPrompt(s);
    const qemuRssBytes = rssBytes(s.driver.pid);
    await execRoundTripMs(s.ssh as ssh2.Client);
    s.trace.mark('exec true done');
    const before = await translatedBlocks(s.driver);
    const ms = await anotherSsh(s, clientKey);
    const translated = (await translatedBlocks(s.driver)) - before;
    const m = s.trace.marks;
    return {
      startToPrompt: s.trace.between('session start', 'prompt'),
      spawnToPrompt: s.trace.between('qemu spawned', 'prompt'),
      startToReady: s.trace.between('session start', 'ssh ready'),
      spawnToReady: s.trace.between('qemu spawned', 'ssh ready'),
      translatedToReady,
      anotherSsh: { ms, translated },
      qemuRssBytes,
      steps: m.slice(1).map((x, i) => [x.label, x.atMs - (m[i]?.atMs ?? x.atMs)]),
    };
  } finally {
    await s.close();
  }
}

/** This checkout's CLI as a fresh process: `node bin/virtualghost.js`. */
const checkoutCli = (): string[] => [process.execPath, join(packageRoot(), 'bin', 'virtualghost.js')];

/**
 * Wall time of `virtualghost ARGS…` in a fresh process (Node start-up included), ms; throws unless it
 * exits 0. `cli` is how to start the CLI (default: this checkout's), `env` what to add to ours.
 */
export async function cliRunMs(
  args: readonly string[],
  opts: { cli?: readonly string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<number> {
  const t0 = performance.now();
  const [file = process.execPath, ...pre] = opts.cli ?? checkoutCli();
  const code = await new Promise<number | null>((resolve, reject) => {
    const p = spawn(file, [...pre, ...args], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, ...opts.env },
    });
    p.on('error', reject);
    p.on('close', resolve);
  });
  if (code !== 0) throw new Error(`virtualghost ${args.join(' ')} exited with ${code}`);
  return performance.now() - t0;
}

/** Wall time of `virtualghost exec [--cold] -- true` under TCG in a fresh process, ms (see cliRunMs). */
export async function cliExecTrueMs(cold: boolean, cli: readonly string[] = checkoutCli()): Promise<number> {
  return await cliRunMs(['exec', ...(cold ? ['--cold'] : []), '--', 'true'], {
    cli,
    env: { VIRTUALGHOST_ACCEL: 'tcg' },
  });
}

export interface FleetRun {
  /** Wall time until every VM is SSH-ready, ms. */
  allReady: number;
  /** Each VM's own session start → SSH ready, ms. */
  each: number[];
  qemuRssBytes: number;
  qemuPssBytes: number;
}

export async function fleetRun(config: LoadedConfig, paths: GhostPaths, count: number): Promise<FleetRun> {
  const t0 = performance.now();
  const settled = await Promise.allSettled(
    Array.from({ length: count }, () => VmSession.start({ config, paths, signal: new AbortController().signal })),
  );
  const allReady = performance.now() - t0;
  const many = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  try {
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const sum = (f: (pid: number | undefined) => number): number =>
      many.reduce((total, s) => total + f(s.driver.pid), 0);
    return {
      allReady,
      each: many.map((s) => s.timings.readyMs),
      qemuRssBytes: sum(rssBytes),
      qemuPssBytes: sum(pssBytes),
    };
  } finally {
    await Promise.all(many.map((s) => s.close()));
  }
}
