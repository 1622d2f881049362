/**
 * An ssh2 connection to a running named VM through its relay socket: the per-VM client key and the host
 * key pinned in its known_hosts, exactly what OpenSSH gets from `ssh-config`. Every call is its own SSH
 * connection (its own stream of the VM's pool), independent of the supervisor's.
 */
import { readFileSync } from 'node:fs';
import type ssh2 from 'ssh2';
import { findNamedVm, readPinnedHostKey } from '../store/named-vm-files.js';
import type { GhostPaths } from '../store/paths.js';
import { connectSsh } from './client.js';
import { connectRelay } from './relay-socket.js';

const CONNECT_TIMEOUT_MS = 30_000;

export async function connectNamedVm(
  paths: GhostPaths,
  name: string,
  opts: { timeoutMs?: number } = {},
): Promise<ssh2.Client> {
  const files = findNamedVm(paths, name);
  const privateKey = readFileSync(files.clientKey, 'utf8');
  const pinnedHostKey = readPinnedHostKey(files);
  const sock = await connectRelay(files);
  try {
    const client = await connectSsh({
      sock,
      privateKey,
      pinnedHostKey,
      timeoutMs: opts.timeoutMs ?? CONNECT_TIMEOUT_MS,
    });
    // Once connected, a lost connection shows as its channels closing (callers report that); an 'error'
    // event nobody listens to would crash the process instead.
    client.on('error', () => undefined);
    return client;
  } catch (err) {
    sock.destroy();
    throw err;
  }
}
