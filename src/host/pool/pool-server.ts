/**
 * The running pool: keeps `size` clones of its shape ready, each held by a keeper process (keeper.ts)
 * tied to this process by its stdin; serves `claim`, `status` and `stop` on pool.sock; refills after a
 * claim; stops on the idle timeout, on `stop`, and when it is stale (a claim of another default shape,
 * or staleness.ts between claims).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import type { Server, Socket } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { errorMessage } from '../../shared/errors.js';
import { ghostPaths, type GhostPaths } from '../store/paths.js';
import { OWNER_FILE, readOwner } from '../store/process-identity.js';
import { listenPrivate } from '../supervisor/private-socket.js';
import { readLine } from '../supervisor/protocol.js';
import { measurePoolCost } from './cost.js';
import { POOL_CLONE_PREFIX, type PoolPaths } from './files.js';
import { line, parseLine, type KeeperOrder } from './keeper-protocol.js';
import type { ClaimReply, CloneStatus, PoolLaunchMessage, PoolStatus } from './pool-protocol.js';
import type { PoolShape } from './shape.js';

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

interface Clone {
  name: string;
  token: string;
  child: ChildProcess;
  state: CloneStatus['state'];
  vmmPid: number | null;
  readyMs: number | null;
  handoverTimer?: NodeJS.Timeout;
}

export interface ServeOptions {
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

export async function servePool(o: ServeOptions): Promise<{ done: Promise<void> }> {
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
