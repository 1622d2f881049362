/**
 * The pool's socket (pool.sock, 0600 in the 0700 pool dir): one JSON request per connection, one JSON
 * reply. `claim` hands out a ready clone whose shape is the asker's (then the asker takes it over from
 * its keeper with the token), `status` reports the clones and their cost, `stop` ends the pool.
 */
import { connect } from 'node:net';
import { readLine } from '../supervisor/protocol.js';
import type { PoolCost } from './cost.js';

/**
 * `fromDefaults`: the asker's shape comes from the config file and environment alone (no flag sets it):
 * if that differs from the pool's, the pool is stale and stops; a run with flags of its own only misses.
 */
export type PoolRequest = { op: 'claim'; shape: string; fromDefaults: boolean } | { op: 'status' } | { op: 'stop' };

export type ClaimReply =
  { ok: true; hit: true; name: string; token: string } | { ok: true; hit: false; reason: string };

export interface CloneStatus {
  name: string;
  state: 'starting' | 'ready' | 'handed';
  vmmPid: number | null;
  readyMs: number | null;
}

export interface PoolStatus {
  ok: true;
  pid: number;
  shape: string;
  imageId: string;
  vcpus: number;
  memoryMiB: number;
  net: string;
  backend: string;
  accel: string;
  size: number;
  idleTimeoutSec: number;
  idleLeftSec: number;
  startedAt: string;
  claims: number;
  clones: CloneStatus[];
  cost: PoolCost;
}

/** Sends one request; rejects when nothing answers (no pool) or the answer is not JSON. */
export async function poolRequest<R>(socket: string, req: PoolRequest, timeoutMs = 10_000): Promise<R> {
  const sock = connect(socket);
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
    sock.setTimeout(timeoutMs, () => sock.destroy(new Error(`the pool did not answer within ${timeoutMs / 1000} s`)));
    sock.write(`${JSON.stringify(req)}\n`);
    const { line } = await readLine(sock);
    return JSON.parse(line) as R;
  } finally {
    sock.destroy();
  }
}

/** What `pool start` hears on fd 3 while the pool starts. */
export type PoolLaunchMessage =
  | { t: 'notice'; line: string }
  | { t: 'ready'; clones: number; readyMs: number[] }
  | { t: 'error'; code: string; message: string };
