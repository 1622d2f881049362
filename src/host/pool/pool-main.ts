/**
 * `virtualghost __pool --flags JSON`: the standby pool, a detached process (started by `pool start`, or by
 * `run`/`exec` with pool.autostart) that keeps `pool.size` warm clones of the current default shape ready
 * to be claimed. Each clone is held by a keeper process of its own (keeper.ts), tied to this process by
 * its stdin: if the pool dies, however, its unclaimed clones go with it and claimed ones stay with their
 * claimers. This file starts it: the lock (its dir), the shape, the warm snapshot it restores from; the
 * running pool — claims, refills, and stopping when idle, asked or stale — is pool-server.ts.
 */
import { appendFileSync, closeSync, mkdtempSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage, GhostError } from '../../shared/errors.js';
import { VmBackendUnavailableError } from '../vm/errors.js';
import { loadConfig } from '../config/load.js';
import type { ConfigKey } from '../config/schema.js';
import { resolveImage, VmSession } from '../session.js';
import { ensurePrivateDir, assertPrivateDir } from '../store/private-dir.js';
import { ghostPaths, type GhostPaths } from '../store/paths.js';
import { OWNER_FILE, identify, isAlive, readOwner, writeOwner } from '../store/process-identity.js';
import { poolPaths, type PoolPaths } from './files.js';
import type { PoolLaunchMessage } from './pool-protocol.js';
import { servePool } from './pool-server.js';
import { poolShape } from './shape.js';
import { PoolRunningError } from './errors.js';
import { stalenessCheck } from './staleness.js';

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
