/**
 * Hands out the SSH streams of a VM's pool (VmDriver.sshPool) one client at a time: a virtio-serial port
 * admits one host connection, so an index is leased to exactly one relay connection until it is
 * released. When all are leased a caller waits (first come, first served) up to its own timeout.
 * An unbounded pool (vsock: every CONNECT is its own stream) never makes anyone wait.
 */
import type { GuestChannel, SshStreamPool } from '../vm/driver.js';
import { RelayPoolBusyError } from './errors.js';

export interface ChannelLease {
  readonly index: number;
  readonly channel: GuestChannel;
  /** Idempotent: gives the index back (to the longest waiter, if any). */
  release(): void;
}

interface Waiter {
  grant(index: number): void;
}

export class ChannelPool {
  private readonly leased = new Set<number>();
  private readonly waiters: Waiter[] = [];
  private nextUnbounded = 0;

  constructor(private readonly pool: SshStreamPool) {}

  get inUse(): number {
    return this.leased.size;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  acquire(opts: { signal: AbortSignal; timeoutMs: number }): Promise<ChannelLease> {
    opts.signal.throwIfAborted();
    const free = this.freeIndex();
    if (free !== undefined) return Promise.resolve(this.lease(free));
    return new Promise<ChannelLease>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        opts.signal.removeEventListener('abort', onAbort);
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
      };
      const waiter: Waiter = {
        grant: (index) => {
          done();
          resolve(this.lease(index));
        },
      };
      const onAbort = (): void => {
        done();
        reject(opts.signal.reason instanceof Error ? opts.signal.reason : new Error('aborted'));
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new RelayPoolBusyError(
            `all ${this.pool.capacity} guest SSH streams stayed busy for ${opts.timeoutMs} ms; close another connection to this VM (ssh, scp, exec, cp) and retry`,
          ),
        );
      }, opts.timeoutMs);
      opts.signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private freeIndex(): number | undefined {
    if (this.pool.capacity === Infinity) return this.nextUnbounded++;
    for (let i = 0; i < this.pool.capacity; i++) if (!this.leased.has(i)) return i;
    return undefined;
  }

  private lease(index: number): ChannelLease {
    this.leased.add(index);
    let released = false;
    return {
      index,
      channel: this.pool.channel(index),
      release: () => {
        if (released) return;
        released = true;
        this.leased.delete(index);
        // The index goes straight to the longest waiter: nobody arriving later can overtake it.
        const next = this.waiters.shift();
        if (next) next.grant(index);
      },
    };
  }
}
