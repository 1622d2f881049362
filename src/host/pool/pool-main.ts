/**
 * `virtualghost __pool --flags JSON`: the standby pool, a detached process (started by `pool start`, or by
 * `run`/`exec` with pool.autostart) that keeps `pool.size` warm clones of the current default shape ready
 * to be claimed. Each clone is held by a keeper process of its own (keeper.ts), tied to this process by
 * its stdin: if the pool dies, however, its unclaimed clones go with it and claimed ones stay with their
 * claimers. After each claim a replacement is restored in the background; the pool stops itself after
 * pool.idle_timeout without a claim, on `pool stop`, and on a claim whose shape is no longer its own (the
 * image or the config changed): a stale pool is never used.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, mkdtempSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import type { Server, Socket } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { errorMessage, GhostError } from '../../shared/errors.js';
import { VmBackendUnavailableError } from '../vm/errors.js';
import { loadConfig } from '../config/load.js';
import type { ConfigKey } from '../config/schema.js';
import { resolveImage, VmSession } from '../session.js';
import { ensurePrivateDir, assertPrivateDir } from '../store/private-dir.js';
import { ghostPaths, type GhostPaths } from '../store/paths.js';
import { OWNER_FILE, identify, isAlive, readOwner, writeOwner } from '../store/process-identity.js';
import { listenPrivate } from '../supervisor/private-socket.js';
import { readLine } from '../supervisor/protocol.js';
import { measurePoolCost } from './cost.js';
import { POOL_CLONE_PREFIX, poolPaths, type PoolPaths } from './files.js';
import { line, parseLine, type KeeperOrder } from './keeper-protocol.js';
import type { ClaimReply, CloneStatus, PoolStatus } from './pool-protocol.js';
import { poolShape, type PoolShape } from './shape.js';
import { PoolRunningError } from './errors.js';
import { stalenessCheck } from './staleness.js';

const BIN = fileURLToPath(new URL('../../../bin/virtualghost.js', import.meta.url));
/** A clone handed to a claimer that has not taken it by then is stopped (the claimer died meanwhile). */
const HANDOVER_MS = 10_000;
const CLONE_TIMEOUT_MS = 90_000;
/**
 * A refill starts this long after a claim: restoring and warming a clone takes a core for seconds, and
 * on a small host it would slow down the very VM just claimed (a short exec is over by then).
 */
const REFILL_DELAY_MS = 1_500;
/** How often the pool checks, between claims, whether its shape is still the current one (staleness.ts). */
const STALE_CHECK_MS = 5_000;
/** Clones that fail to start one after another: the pool gives up rather than loop. */
const MAX_FAILURES = 3;

/** What `pool start` hears on fd 3 while the pool starts. */
export type PoolLaunchMessage =
  | { t: 'notice'; line: string }
  | { t: 'ready'; clones: number; readyMs: number[] }
  | { t: 'error'; code: string; message: string };

interface Clone {
  name: string;
  token: string;
  child: ChildProcess;
  state: CloneStatus['state'];
  vmmPid: number | null;
  readyMs: number | null;
  handoverTimer?: NodeJS.Timeout;
}

/** The pool dir is also the pool's lock: it appears atomically with its owner record, as a per-VM dir does. */
function claimPoolDir(paths: GhostPaths, pool: PoolPaths): void {
  ensurePrivateDir(paths.runtimeDir);
  for (let attempt = 0; attempt < 3; attempt++) {
    const tmp = mkdtempSync(join(paths.runtimeDir, '.pool-'));
    writeOwner(join(tmp, OWNER_FILE), {
      host: identify(process.pid) ?? { pid: process.pid, start: 0 },
      backend: 'pool',
      createdAt: new Date().toISOString(),
    });
    try {
      renameSync(tmp, pool.dir);
      return;
    } catch (err) {
      rmSync(tmp, { recursive: true, force: true });
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
    }
    assertPrivateDir(pool.dir);
    const owner = readOwner(join(pool.dir, OWNER_FILE));
    if (owner && isAlive(owner.host))
      throw new PoolRunningError(
        `a pool is already running (pid ${owner.host.pid}); \`virtualghost pool status\` shows it, \`virtualghost pool stop\` ends it`,
      );
    rmSync(pool.dir, { recursive: true, force: true }); // a killed pool's leftover
  }
  throw new PoolRunningError('could not claim the pool dir: another pool keeps starting; try again');
}

export async function runPool(opts: { flags: Partial<Record<ConfigKey, unknown>> }): Promise<number> {
  let launch: number | undefined = 3;
  const tell = (m: PoolLaunchMessage): void => {
    if (launch === undefined) return;
    try {
      writeSync(launch, `${JSON.stringify(m)}\n`);
    } catch {
      launch = undefined; // `pool start` went away: it no longer waits for us
    }
  };
  const endTelling = (): void => {
    if (launch !== undefined) closeSync(launch);
    launch = undefined;
  };
  const paths = ghostPaths();
  const pool = poolPaths(paths);
  let logFd: number | undefined;
  const log = (msg: string): void => {
    if (logFd !== undefined) appendFileSync(logFd, `${new Date().toISOString()} pool ${process.pid}: ${msg}\n`);
  };
  const abort = new AbortController();
  try {
    const config = loadConfig(paths.configFile, process.env, opts.flags);
    claimPoolDir(paths, pool);
    logFd = openSync(pool.log, 'a', 0o600);
    const image = await resolveImage({
      config,
      paths,
      signal: abort.signal,
      onNotice: (l) => tell({ t: 'notice', line: l }),
    });
    let shape = await poolShape(config, paths, image);
    if (!shape)
      throw new VmBackendUnavailableError(
        'the standby pool holds QEMU VMs only: set backend = "qemu" (or "auto" on a host without Firecracker)',
      );
    const key = await shape.warm.key(image, shape.spec, shape.accel);
    if (!shape.warm.find(image, key)) {
      // The clones restore from the warm snapshot: make it the way any run does, with one throw-away VM.
      tell({ t: 'notice', line: 'making the warm snapshot the pool restores from (once per image and VM size)' });
      const s = await VmSession.start({
        config,
        paths,
        signal: abort.signal,
        pool: false,
        onNotice: (l) => tell({ t: 'notice', line: l }),
      });
      await s.close();
      shape = (await poolShape(config, paths, image)) ?? shape;
    }
    const server = await servePool({
      paths,
      pool,
      shape,
      size: config.values['pool.size'],
      idleSec: config.values['pool.idle_timeout'],
      stale: stalenessCheck(paths, loadConfig(paths.configFile, process.env), image.id),
      qemuBin: config.values['qemu.bin'],
      log,
      logFd,
      tell,
      endTelling,
    });
    await server.done;
    return 0;
  } catch (err) {
    log(`failed: ${errorMessage(err)}`);
    tell({ t: 'error', code: err instanceof GhostError ? err.code : 'INTERNAL', message: errorMessage(err) });
    if (!(err instanceof PoolRunningError)) rmSync(pool.dir, { recursive: true, force: true });
    return 1;
  } finally {
    endTelling();
  }
}

interface ServeOptions {
  paths: GhostPaths;
  pool: PoolPaths;
  shape: PoolShape;
  /** The reason the pool no longer fits the current config or image, or undefined. */
  stale: () => string | undefined;
  size: number;
  idleSec: number;
  qemuBin: string;
  log: (msg: string) => void;
  logFd: number;
  tell: (m: PoolLaunchMessage) => void;
  endTelling: () => void;
}

async function servePool(o: ServeOptions): Promise<{ done: Promise<void> }> {
  const clones: Clone[] = [];
  const startedAt = new Date();
  let claims = 0;
  let failures = 0;
  let stopping: Promise<void> | undefined;
  let idleTimer: NodeJS.Timeout | undefined;
  let idleSince = Date.now();
  let launched = false;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));

  const armIdle = (): void => {
    clearTimeout(idleTimer);
    idleSince = Date.now();
    idleTimer = setTimeout(() => void stop(`idle for ${o.idleSec} s`), o.idleSec * 1000);
  };

  const spawnClone = (): void => {
    const name = `${POOL_CLONE_PREFIX}${randomBytes(4).toString('hex')}`;
    const vmDir = join(o.paths.vmsDir, name);
    const child = spawn(process.execPath, [BIN, '__pool-clone', '--vm-dir', vmDir], {
      stdio: ['pipe', 'pipe', o.logFd],
      detached: true, // its own process group: a signal to ours (a terminal's ^C) is not its business
    });
    const clone: Clone = {
      name,
      token: randomBytes(32).toString('hex'),
      child,
      state: 'starting',
      vmmPid: null,
      readyMs: null,
    };
    clones.push(clone);
    const order: KeeperOrder = {
      token: clone.token,
      name,
      imageId: o.shape.image.id,
      qemuBin: o.qemuBin,
      accel: o.shape.accel,
      spec: o.shape.spec,
      timeoutMs: CLONE_TIMEOUT_MS,
    };
    child.stdin?.on('error', () => undefined);
    child.stdin?.write(line(order));
    const forget = (): void => {
      clearTimeout(clone.handoverTimer);
      const i = clones.indexOf(clone);
      if (i >= 0) clones.splice(i, 1);
    };
    createInterface({ input: child.stdout! }).on('line', (text) => {
      const m = parseLine(text);
      if (m?.['t'] === 'ready') {
        clone.state = 'ready';
        clone.vmmPid = typeof m['vmm'] === 'number' ? m['vmm'] : null;
        clone.readyMs = typeof m['readyMs'] === 'number' ? m['readyMs'] : null;
        failures = 0;
        o.log(`clone ${name} ready in ${clone.readyMs} ms`);
        checkLaunched();
      } else if (m?.['t'] === 'taken') {
        o.log(`clone ${name} taken by its claimer`);
        child.stdin?.end(); // the keeper now answers to its claimer only
        forget();
      } else if (m?.['t'] === 'failed') {
        o.log(`clone ${name} failed: ${String(m['message'])}`);
        if (clone.state === 'starting') failures++;
        forget();
        if (!stopping && failures >= MAX_FAILURES) {
          o.tell({
            t: 'error',
            code: 'VM_BOOT_FAILED',
            message: `pooled clones failed to start ${failures} times: ${String(m['message'])} (see ${o.pool.log})`,
          });
          void stop('its clones keep failing');
        } else if (!stopping) refill();
      }
    });
    child.on('exit', (code, signal) => {
      if (clones.includes(clone)) {
        o.log(`keeper of ${name} exited (${code ?? signal})`);
        forget();
        if (!stopping) refill();
      }
    });
  };

  const refill = (): void => {
    const live = clones.filter((c) => c.state !== 'handed').length;
    for (let i = live; i < o.size; i++) spawnClone();
  };

  const checkLaunched = (): void => {
    if (launched || clones.filter((c) => c.state === 'ready').length < o.size) return;
    launched = true;
    o.tell({ t: 'ready', clones: o.size, readyMs: clones.map((c) => c.readyMs ?? 0) });
    o.endTelling();
  };

  const stop = (why: string): Promise<void> =>
    (stopping ??= (async () => {
      o.log(`stopping: ${why}`);
      clearTimeout(idleTimer);
      clearInterval(staleTimer);
      server.close();
      // EOF on each keeper's stdin: an unclaimed clone is stopped and its dir removed by its keeper.
      const exits = clones.map(
        (c) =>
          new Promise<void>((r) =>
            c.child.exitCode !== null || c.child.signalCode !== null ? r() : c.child.once('exit', () => r()),
          ),
      );
      for (const c of clones) c.child.stdin?.end();
      const all = Promise.all(exits);
      if (!(await Promise.race([all.then(() => true), new Promise((r) => setTimeout(() => r(false), 10_000))])))
        for (const c of clones) c.child.kill('SIGKILL');
      await all;
      rmSync(o.pool.dir, { recursive: true, force: true });
      setTimeout(resolveDone, 200); // a `stop` request's answer is still on its way
    })());

  const onRequest = async (sock: Socket): Promise<void> => {
    const { line: text } = await readLine(sock);
    const req = parseLine(text);
    const reply = (r: unknown): void => void sock.end(`${JSON.stringify(r)}\n`);
    if (req?.['op'] === 'claim') {
      if (req['shape'] !== o.shape.id && req['fromDefaults'] !== true) {
        reply({ ok: true, hit: false, reason: 'the pool holds VMs of another shape' } satisfies ClaimReply);
        return;
      }
      if (req['shape'] !== o.shape.id) {
        reply({
          ok: true,
          hit: false,
          reason: 'stale: the image or the VM settings changed since the pool started; it stops now',
        } satisfies ClaimReply);
        void stop(`a claim for another shape (${String(req['shape'])}): the pool is stale`);
        return;
      }
      const clone = clones.find((c) => c.state === 'ready');
      if (!clone) {
        reply({ ok: true, hit: false, reason: 'no pooled VM is ready yet' } satisfies ClaimReply);
        return;
      }
      clone.state = 'handed';
      claims++;
      armIdle();
      clone.handoverTimer = setTimeout(() => {
        o.log(`clone ${clone.name} was not taken within ${HANDOVER_MS} ms: stopping it`);
        clone.child.stdin?.end();
      }, HANDOVER_MS);
      reply({ ok: true, hit: true, name: clone.name, token: clone.token } satisfies ClaimReply);
      setTimeout(() => stopping ?? refill(), REFILL_DELAY_MS); // in the background: the claim never waits for it
      return;
    }
    if (req?.['op'] === 'status') {
      const vmmPids = clones.flatMap((c) => (c.vmmPid ? [c.vmmPid] : []));
      const pids = [
        process.pid,
        ...clones.flatMap((c) => (c.child.pid ? [c.child.pid] : [])),
        ...vmmPids,
        ...helperPids(clones),
      ];
      const cost = await measurePoolCost(pids, vmmPids);
      const { spec } = o.shape;
      reply({
        ok: true,
        pid: process.pid,
        shape: o.shape.id,
        imageId: o.shape.image.id,
        vcpus: spec.vcpus,
        memoryMiB: spec.memoryMiB,
        net: spec.net ?? 'none',
        backend: o.shape.choice.factory.name,
        accel: o.shape.accel,
        size: o.size,
        idleTimeoutSec: o.idleSec,
        idleLeftSec: Math.max(0, Math.round(o.idleSec - (Date.now() - idleSince) / 1000)),
        startedAt: startedAt.toISOString(),
        claims,
        clones: clones.map((c) => ({ name: c.name, state: c.state, vmmPid: c.vmmPid, readyMs: c.readyMs })),
        cost,
      } satisfies PoolStatus);
      return;
    }
    if (req?.['op'] === 'stop') {
      await stop('pool stop');
      reply({ ok: true });
      return;
    }
    reply({ ok: false, error: 'unknown request' });
  };

  const server: Server = await listenPrivate(o.pool.socket, (sock) => {
    sock.on('error', () => sock.destroy());
    onRequest(sock).catch((err: unknown) => {
      o.log(`request failed: ${errorMessage(err)}`);
      sock.destroy();
    });
  });
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => void stop(`got ${sig}`));
  const staleTimer = setInterval(() => {
    const why = o.stale();
    if (why) void stop(`stale: ${why}`);
  }, STALE_CHECK_MS);
  armIdle();
  refill();
  o.log(`serving ${o.shape.id}: ${o.size} clone(s), idle timeout ${o.idleSec} s`);
  return { done };
}

/** The NAT processes of the clones (read from their owner records: the keepers start them). */
function helperPids(clones: readonly Clone[]): number[] {
  return clones.flatMap((c) => {
    const owner = readOwner(join(ghostPaths().vmsDir, c.name, OWNER_FILE));
    return (owner?.helpers ?? []).map((h) => h.pid);
  });
}
