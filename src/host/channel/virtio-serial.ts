/**
 * QEMU virtio-serial: each guest stream is a `virtserialport` whose host end is a Unix socket QEMU
 * listens on (0600, in the per-VM dir). Connecting succeeds as soon as QEMU is up, before the guest is,
 * so `connect` also does the hello exchange (HOST_HELLO → GUEST_HELLO, see shared/ports.ts): it resolves
 * once the guest bridge has a fresh agent connection for us, with anything stale dropped.
 */
import { existsSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { GuestChannel } from '../vm/driver.js';
import { GUEST_HELLO, HOST_HELLO } from '../../shared/ports.js';
import { ChannelConnectError } from './errors.js';
import { HelloScanner } from './hello-scanner.js';

export class VirtioSerialChannel implements GuestChannel {
  constructor(private readonly socketPath: string) {}

  async connect(opts: { signal: AbortSignal; timeoutMs: number }): Promise<Duplex> {
    const deadline = Date.now() + opts.timeoutMs;
    for (;;) {
      opts.signal.throwIfAborted();
      if (existsSync(this.socketPath)) {
        let socket: Socket | undefined;
        try {
          socket = await connectOnce(this.socketPath);
        } catch (err) {
          if (Date.now() > deadline)
            throw new ChannelConnectError(`cannot connect to ${this.socketPath}: ${(err as Error).message}`, {
              cause: err,
            });
        }
        if (socket) return await helloExchange(socket, opts.signal, Math.max(1000, deadline - Date.now()));
      } else if (Date.now() > deadline) {
        throw new ChannelConnectError(
          `${this.socketPath} did not appear within ${opts.timeoutMs} ms: the VMM did not start its guest channel`,
        );
      }
      await new Promise((r) => setTimeout(r, 5)); // a restore connects while QEMU starts: no need to lose ms here
    }
  }
}

/** Sends HOST_HELLO, drops everything up to GUEST_HELLO, and hands back the socket with the rest unread. */
function helloExchange(socket: Socket, signal: AbortSignal, timeoutMs: number): Promise<Socket> {
  const scanner = new HelloScanner(Buffer.from(GUEST_HELLO, 'latin1'));
  return new Promise((resolve, reject) => {
    const finish = (err?: Error): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.removeListener('data', onData);
      socket.removeListener('close', onClose);
      socket.removeListener('error', onError);
      if (err) {
        socket.destroy();
        reject(err);
      } else resolve(socket);
    };
    const onData = (chunk: Buffer): void => {
      const rest = scanner.push(chunk);
      if (rest === undefined) return;
      // Hold what follows the hello until the caller listens: pause now, and resume (with the rest put
      // back in front) as soon as someone attaches a 'data' listener or pipes the socket.
      socket.pause();
      finish();
      if (rest.length > 0) socket.unshift(rest);
      const onNewListener = (event: string | symbol): void => {
        if (event !== 'data') return;
        socket.removeListener('newListener', onNewListener);
        socket.resume();
      };
      socket.on('newListener', onNewListener);
    };
    const onClose = (): void =>
      finish(
        new ChannelConnectError(
          `${socket.remoteAddress ?? 'the guest channel'} closed before the guest bridge answered (did the VM stop?)`,
        ),
      );
    const onError = (err: Error): void =>
      finish(new ChannelConnectError(`guest channel error: ${err.message}`, { cause: err }));
    const onAbort = (): void => finish(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    const timer = setTimeout(
      () => finish(new ChannelConnectError(`the guest bridge did not answer on the channel within ${timeoutMs} ms`)),
      timeoutMs,
    );
    signal.addEventListener('abort', onAbort, { once: true });
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.once('error', onError);
    socket.write(HOST_HELLO, 'latin1');
  });
}

function connectOnce(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    s.once('connect', () => {
      s.removeListener('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}
