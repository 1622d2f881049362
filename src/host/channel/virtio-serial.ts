/**
 * QEMU virtio-serial: each guest stream is a `virtserialport` whose host end is a Unix socket QEMU
 * listens on (0600, in the per-VM dir). Connecting succeeds as soon as QEMU is up, before the guest is;
 * bytes then wait until the guest's bridge opens the port, so readiness is the agent speaking first
 * (`agent-hello` on control, the SSH banner on ssh), not the connect itself.
 */
import { existsSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { GuestChannel } from '../vm/driver.js';
import { ChannelConnectError } from './errors.js';

export class VirtioSerialChannel implements GuestChannel {
  constructor(private readonly socketPath: string) {}

  async connect(opts: { signal: AbortSignal; timeoutMs: number }): Promise<Duplex> {
    const deadline = Date.now() + opts.timeoutMs;
    for (;;) {
      opts.signal.throwIfAborted();
      if (existsSync(this.socketPath)) {
        try {
          return await connectOnce(this.socketPath);
        } catch (err) {
          if (Date.now() > deadline) throw new ChannelConnectError(`cannot connect to ${this.socketPath}: ${(err as Error).message}`, { cause: err });
        }
      } else if (Date.now() > deadline) {
        throw new ChannelConnectError(`${this.socketPath} did not appear within ${opts.timeoutMs} ms: the VMM did not start its guest channel`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
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
