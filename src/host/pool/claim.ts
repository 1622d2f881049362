/**
 * A run's side of the pool: when a pool is running and its shape is exactly this run's, take one of its
 * clones. The pool names a ready clone and hands out its keeper's token; we present the token to the
 * keeper (which from then on answers to our connection only), record ourselves as the VM's owner and
 * move the clone's dir to our VM's name — a rename that fails if that name is taken, as claiming a name
 * always does. Anything that goes wrong here means "start as without a pool": a claim never waits for a
 * pool that has nothing ready.
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import type { LoadedConfig } from '../config/load.js';
import type { CachedImage } from '../image/cache.js';
import { isVmName, openInstanceDir, type OwnedInstanceDir } from '../store/instance-dir.js';
import type { GhostPaths } from '../store/paths.js';
import { assertPrivateDir } from '../store/private-dir.js';
import { OWNER_FILE, identify, isAlive, readOwner, writeOwner } from '../store/process-identity.js';
import type { VmSpec } from '../vm/driver.js';
import type { BackendChoice } from '../vm/select.js';
import { KEEPER_SOCKET, POOL_CLONE_PREFIX, POOLED_MARKER, poolPaths } from './files.js';
import { isPreparedSession, line, parseLine, type PreparedSession, type TakenReply } from './keeper-protocol.js';
import type { ClaimReply } from './pool-protocol.js';
import { poolRequest } from './pool-protocol.js';
import { PooledDriver } from './pooled-driver.js';
import { poolShape } from './shape.js';
import { SHAPE_KEYS } from './staleness.js';

/** The pool answers from memory: anything slower is a pool in trouble, and we start without it. */
const CLAIM_TIMEOUT_MS = 2_000;

export interface ClaimedVm {
  dir: OwnedInstanceDir;
  driver: PooledDriver;
  spec: VmSpec;
  image: CachedImage;
  choice: BackendChoice;
  restoredFrom: string;
  /** The session the keeper offered for this claim, to attach to (absent: offer one). */
  session?: PreparedSession;
}

/** Whether a pool seems to run (its socket exists): the only cost a run without a pool pays. */
export function poolMayRun(paths: GhostPaths): boolean {
  return existsSync(poolPaths(paths).socket);
}

export async function claimPooledVm(opts: {
  config: LoadedConfig;
  paths: GhostPaths;
  name: string;
  image: CachedImage;
  onNotice?: (line: string) => void;
  onMark?: (label: string) => void;
}): Promise<ClaimedVm | undefined> {
  const pool = poolPaths(opts.paths);
  assertPrivateDir(pool.dir);
  // A killed pool leaves its socket: not worth resolving the shape for.
  if (!isAlive(readOwner(join(pool.dir, OWNER_FILE))?.host)) return undefined;
  const shape = await poolShape(opts.config, opts.paths, opts.image);
  if (!shape) return undefined;
  const fromDefaults = !SHAPE_KEYS.some((k) => opts.config.origins[k] === 'flag');
  const reply = await poolRequest<ClaimReply>(
    pool.socket,
    { op: 'claim', shape: shape.id, fromDefaults },
    CLAIM_TIMEOUT_MS,
  ).catch(() => undefined);
  opts.onMark?.('pool answered');
  if (!reply?.hit) {
    if (reply?.reason.startsWith('stale')) opts.onNotice?.(`not using the standby pool: ${reply.reason}`);
    return undefined;
  }
  if (!isVmName(reply.name) || !reply.name.startsWith(POOL_CLONE_PREFIX)) return undefined;
  const cloneDir = join(opts.paths.vmsDir, reply.name);
  assertPrivateDir(cloneDir);
  const { sock, lines, taken } = await take(join(cloneDir, KEEPER_SOCKET), reply.token);
  opts.onMark?.('pooled VM taken over');
  const driverDir = {
    path: join(opts.paths.vmsDir, opts.name),
    file: (f: string) => join(opts.paths.vmsDir, opts.name, f),
  };
  const driver = new PooledDriver(sock, lines, driverDir, shape.accel, taken);
  try {
    writeOwner(join(cloneDir, OWNER_FILE), {
      host: identify(process.pid) ?? { pid: process.pid, start: 0 },
      vmm: taken.vmm,
      helpers: taken.helpers,
      backend: 'qemu',
      createdAt: new Date().toISOString(),
      origin: taken.origin,
    });
    rmSync(join(cloneDir, POOLED_MARKER), { force: true });
    // Onto a name nobody holds: a rename onto an existing (non-empty) per-VM dir fails, as claiming does.
    renameSync(cloneDir, join(opts.paths.vmsDir, opts.name));
  } catch {
    await driver.stop();
    rmSync(cloneDir, { recursive: true, force: true });
    return undefined;
  }
  return {
    dir: openInstanceDir(opts.paths.vmsDir, opts.name),
    driver,
    spec: { ...taken.spec, name: opts.name },
    image: opts.image,
    choice: shape.choice,
    restoredFrom: taken.restoredFrom,
    ...(isPreparedSession(taken.session) ? { session: taken.session } : {}),
  };
}

async function take(socketPath: string, token: string): Promise<{ sock: Socket; lines: Interface; taken: TakenReply }> {
  const sock = connect(socketPath);
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  const lines = createInterface({ input: sock });
  sock.write(line({ t: 'take', token }));
  const first = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the keeper did not answer')), CLAIM_TIMEOUT_MS);
    lines.once('line', (l) => {
      clearTimeout(timer);
      resolve(l);
    });
    sock.once('close', () => reject(new Error('the keeper closed the connection')));
  });
  const m = parseLine(first);
  if (m?.['t'] !== 'taken') {
    sock.destroy();
    throw new Error(`the keeper refused: ${String(m?.['message'] ?? first)}`);
  }
  return { sock, lines, taken: m as unknown as TakenReply };
}
