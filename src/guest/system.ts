/** Guest-wide effects of a session offer, through the native helper (Node cannot set the clock or reseed). */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { HELPER_BIN } from './paths.js';

/**
 * A long-lived `ghostly-helper serve` that applies session offers: reseeds the kernel CRNG with the
 * host's entropy, *then* sets the clock. Started with the agent, so it already exists in a snapshot:
 * a restored clone pays no fork + exec (slow while TCG retranslates everything after a restore).
 * One request at a time; if the helper died, the next request starts a new one.
 */
export class SessionHelper {
  private child: ChildProcessWithoutNullStreams | undefined;
  private pending: Array<(line: string) => void> = [];
  private queue: Promise<unknown> = Promise.resolve();

  constructor() {
    this.ensure();
  }

  private ensure(): ChildProcessWithoutNullStreams {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) return this.child;
    const child = spawn(HELPER_BIN, ['serve'], { stdio: ['pipe', 'pipe', 'pipe'] });
    child.on('error', () => this.failAll('ghostly-helper serve could not start'));
    child.on('exit', () => this.failAll('ghostly-helper serve exited'));
    child.stdin.on('error', () => undefined); // a dead helper: 'exit' answers the pending request
    child.stderr.on('data', (d: Buffer) => process.stderr.write(d));
    createInterface({ input: child.stdout }).on('line', (line) => this.pending.shift()?.(line));
    this.child = child;
    return child;
  }

  private failAll(why: string): void {
    for (const answer of this.pending.splice(0)) answer(`error: ${why}`);
  }

  /**
   * Reseeds with `entropy`, then sets the clock to `timeMs` as of `receivedAtMonoNs` (process.hrtime.bigint()
   * when the offer arrived: libuv's clock is CLOCK_MONOTONIC), so the helper adds the time spent since.
   */
  apply(entropy: Buffer, timeMs: number, receivedAtMonoNs: bigint): Promise<void> {
    const sec = Math.floor(timeMs / 1000);
    const nsec = Math.round((timeMs - sec * 1000) * 1e6);
    return this.request(
      `session ${sec} ${nsec} ${receivedAtMonoNs.toString()} ${entropy.subarray(0, 512).toString('hex')}\n`,
    );
  }

  /** mount(2) of a 9p shared folder on `path` (which must exist), with 9p mount `options`. */
  mount9p(tag: string, path: string, readonly: boolean, options: string): Promise<void> {
    return this.request(`mount9p ${tag} ${readonly ? 'ro' : 'rw'} ${Buffer.from(path).toString('hex')} ${options}\n`);
  }

  /** One request line at a time; the helper answers `ok` or `error: …`. */
  private request(request: string): Promise<void> {
    const run = (): Promise<void> =>
      new Promise<void>((resolve, reject) => {
        const child = this.ensure();
        this.pending.push((line) => (line === 'ok' ? resolve() : reject(new Error(`ghostly-helper: ${line}`))));
        child.stdin.write(request);
      });
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }
}

/** Ends the VM. A reboot, because both VMMs turn it into an exit (QEMU -no-reboot, Firecracker reboot=k). */
export function powerOff(): void {
  spawn(HELPER_BIN, ['reboot'], { stdio: 'ignore', detached: true }).unref();
}
