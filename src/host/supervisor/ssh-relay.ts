/**
 * The named-VM SSH relay: a Unix socket (0600, in the per-VM dir) where every accepted connection gets its
 * own end-to-end SSH connection to the guest agent, through a stream of the VM's SSH pool. The relay only
 * moves bytes: authentication and host-key checks happen between the client (OpenSSH, ssh2) and the agent.
 *
 * Per connection: lease a free pool stream (wait up to POOL_WAIT_MS when all are busy), connect it, then
 * pipe both ways (pipe() gives backpressure: a slow reader stops its writer); when either side closes or
 * fails, both are closed and the stream goes back to the pool. A client's first bytes wait in its socket's
 * buffer until the guest stream is ready.
 */
import { rmSync } from 'node:fs';
import type { Server, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { errorMessage } from '../../shared/errors.js';
import type { SshStreamPool } from '../vm/driver.js';
import { ChannelPool } from './channel-pool.js';
import { listenPrivate } from './private-socket.js';

export interface SshRelayOptions {
  socketPath: string;
  pool: SshStreamPool;
  log?: (line: string) => void;
  /** How long a client waits for a free guest stream when all are busy (default 10 s). */
  poolWaitMs?: number;
  /** How long connecting a guest stream may take (the guest bridge answers the hello; default 20 s). */
  connectTimeoutMs?: number;
}

export interface SshRelay {
  /** Ends every connection, stops listening and removes the socket. Idempotent. */
  close(): Promise<void>;
}

const POOL_WAIT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 20_000;

export async function serveSshRelay(opts: SshRelayOptions): Promise<SshRelay> {
  const log = opts.log ?? ((): void => undefined);
  const pool = new ChannelPool(opts.pool);
  const shutdown = new AbortController();
  const open = new Set<Promise<void>>();
  let nextId = 1;

  const server: Server = await listenPrivate(opts.socketPath, (client) => {
    const id = nextId++;
    const done = relayOne(client, id).catch((err: unknown) => log(`relay #${id}: ${errorMessage(err)}`));
    open.add(done);
    void done.finally(() => open.delete(done));
  });

  async function relayOne(client: Socket, id: number): Promise<void> {
    client.on('error', () => undefined); // reported through 'close'; a peer vanishing is routine
    const gone = new AbortController();
    const onClientClose = (): void => gone.abort(new Error('the client went away before its guest stream was ready'));
    client.once('close', onClientClose);
    const signal = AbortSignal.any([gone.signal, shutdown.signal]);
    const lease = await pool.acquire({ signal, timeoutMs: opts.poolWaitMs ?? POOL_WAIT_MS }).catch((err: unknown) => {
      client.destroy();
      throw err;
    });
    let guest: Duplex;
    try {
      guest = await lease.channel.connect({ signal, timeoutMs: opts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS });
    } catch (err) {
      lease.release();
      client.destroy();
      throw new Error(`cannot connect guest SSH stream ${lease.index}: ${errorMessage(err)}`, { cause: err });
    }
    client.removeListener('close', onClientClose);
    await new Promise<void>((resolve) => {
      let closed = 0;
      const end = (): void => {
        signal.removeEventListener('abort', end);
        client.destroy();
        guest.destroy();
        if (++closed === 1) {
          lease.release();
          log(
            `relay #${id} (guest stream ${lease.index}): closed after ${client.bytesRead} B from the client, ${client.bytesWritten} B to it`,
          );
          resolve();
        }
      };
      guest.on('error', () => undefined);
      if (signal.aborted) {
        end();
        return;
      }
      signal.addEventListener('abort', end, { once: true });
      // An 'end' on one side is passed on by pipe() (after what is queued is written); 'close' means a
      // side is finished or failed, and then nothing more can flow either way.
      client.once('close', end);
      guest.once('close', end);
      client.pipe(guest);
      guest.pipe(client);
    });
  }

  let closing: Promise<void> | undefined;
  return {
    close: () =>
      (closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        shutdown.abort(new Error('the relay is shutting down'));
        await Promise.allSettled([...open]);
        await stopped;
        rmSync(opts.socketPath, { force: true });
      })()),
  };
}
