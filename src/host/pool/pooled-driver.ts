/**
 * The VmDriver of a VM claimed from the pool: its QEMU runs under the clone's keeper (keeper.ts), whose
 * tie is now our connection to it. The guest streams are the clone's own sockets (in our per-VM dir,
 * renamed from the clone's); stopping is asking the keeper (QMP quit, TERM, KILL), and the VMM's exit
 * is what the keeper says or, if the keeper itself died, the end of our connection to it.
 */
import type { Socket } from 'node:net';
import type { Interface } from 'node:readline';
import type { StreamName } from '../../shared/ports.js';
import { isAlive } from '../store/process-identity.js';
import type { Accel, GuestChannel, InstanceDir, SshStreamPool, VmDriver, VmExit, VmState } from '../vm/driver.js';
import { qemuChannel, qemuConsoleTail, qemuSshPool } from '../vm/qemu/driver.js';
import { settlesWithin } from '../vm/vmm-process.js';
import { line, parseLine, type TakenReply } from './keeper-protocol.js';

const STOP_WAIT_MS = 5_000;

export class PooledDriver implements VmDriver {
  readonly backend = 'qemu' as const;
  private _state: VmState = 'created';
  readonly exited: Promise<VmExit>;
  private stopping: Promise<void> | undefined;
  readonly origin: string;

  constructor(
    private readonly keeper: Socket,
    lines: Interface,
    private readonly dir: InstanceDir,
    readonly accel: Accel,
    private readonly taken: TakenReply,
  ) {
    this.origin = taken.origin;
    this.exited = new Promise<VmExit>((resolve) => {
      lines.on('line', (text) => {
        const m = parseLine(text);
        if (m?.['t'] === 'exited')
          resolve({
            code: typeof m['code'] === 'number' ? m['code'] : null,
            signal: typeof m['signal'] === 'string' ? (m['signal'] as NodeJS.Signals) : null,
          });
      });
      // The keeper died (and its VMM with it: parent-death signal), or ended the connection after `exited`.
      keeper.on('close', () => resolve({ code: null, signal: 'SIGKILL' }));
      keeper.on('error', () => keeper.destroy());
    });
    void this.exited.then(() => {
      if (this._state !== 'stopping' && this._state !== 'stopped') this._state = 'failed';
      else this._state = 'stopped';
    });
  }

  get state(): VmState {
    return this._state;
  }
  get pid(): number | undefined {
    return this._state !== 'stopped' && isAlive(this.taken.vmm) ? this.taken.vmm.pid : undefined;
  }
  get helperPids(): readonly number[] {
    return this.taken.helpers.map((h) => h.pid);
  }

  /** It runs already: the keeper restored and warmed it before the pool handed it out. */
  async start(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this._state = 'running';
    await Promise.resolve();
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this._state = 'stopping';
      if (!this.keeper.destroyed) this.keeper.write(line({ t: 'stop' }));
      if (!(await settlesWithin(this.exited, STOP_WAIT_MS))) {
        this.keeper.destroy(); // the keeper stops the VM when its claimer's connection ends
        if (!(await settlesWithin(this.exited, STOP_WAIT_MS)) && isAlive(this.taken.vmm))
          process.kill(this.taken.vmm.pid, 'SIGKILL');
      }
      this.keeper.destroy();
      this._state = 'stopped';
    })();
    return this.stopping;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  channel(name: StreamName): GuestChannel {
    return qemuChannel(this.dir, name);
  }

  sshPool(): SshStreamPool {
    return qemuSshPool(this.dir);
  }

  async consoleTail(lines = 20): Promise<string> {
    return await Promise.resolve(qemuConsoleTail(this.dir, lines));
  }
}
