/**
 * Where the standby pool lives: one pool per user, in <runtime>/pool/ (0700, like a per-VM dir), with its
 * socket (0600), its state and its log. Its clones are ordinary per-VM dirs in vms/ (so `ps` and `clean`
 * see them), each marked with POOLED_MARKER until a claim takes it.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { GhostPaths } from '../store/paths.js';
import { assertPrivateDir } from '../store/private-dir.js';
import { OWNER_FILE, isAlive, readOwner } from '../store/process-identity.js';

export interface PoolPaths {
  readonly dir: string;
  readonly socket: string;
  readonly log: string;
}

export function poolPaths(paths: Pick<GhostPaths, 'runtimeDir'>): PoolPaths {
  const dir = join(paths.runtimeDir, 'pool');
  return { dir, socket: join(dir, 'pool.sock'), log: join(dir, 'pool.log') };
}

/** Clone dirs are named `pool-<hex>`: valid VM names, so every verb that lists VMs sees them. */
export const POOL_CLONE_PREFIX = 'pool-';
/** In a clone's dir while the pool holds it (the claimer removes it): `ps` shows the VM as `pooled`. */
export const POOLED_MARKER = 'pooled';
/** The clone keeper's socket in the clone's dir: a claimer takes the VM over through it. */
export const KEEPER_SOCKET = 'keeper.sock';

/**
 * `clean`: removes the pool dir of a pool that was killed (its owner is dead); a live pool's is kept.
 * Its clones need nothing here: their keepers stop them and remove their dirs when the pool dies.
 */
export function removeDeadPoolDir(paths: Pick<GhostPaths, 'runtimeDir'>): 'removed' | 'in use' | 'none' {
  const { dir } = poolPaths(paths);
  if (!existsSync(dir)) return 'none';
  assertPrivateDir(dir);
  if (isAlive(readOwner(join(dir, OWNER_FILE))?.host)) return 'in use';
  rmSync(dir, { recursive: true, force: true });
  return 'removed';
}
