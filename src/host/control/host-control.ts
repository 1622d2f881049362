/**
 * The host's end of the control stream: waits for the agent to speak, offers the session (client key,
 * time, entropy), and learns the host key to pin. Later frames (stats, agent restarts) become events.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import {
  encodeFrame,
  LineSplitter,
  parseAgentFrame,
  type AgentFrame,
  type AgentHello,
  type Ready,
  type SessionOffer,
  type Stats,
} from '../../shared/control.js';
import { GhostError, errorMessage } from '../../shared/errors.js';
import { CONTROL_PROTOCOL_VERSION } from '../../shared/version.js';
import type { MarkFn } from '../trace.js';
import type { GuestMount } from '../../shared/mounts.js';

export class ControlHandshakeError extends GhostError {
  readonly code = 'CONTROL_HANDSHAKE_FAILED';
}

export interface HandshakeOptions {
  clientKey: string;
  hostKey?: { privatePem: string; publicOpenSsh: string };
  /** The key the agent must answer with (the one given, or a resumed VM's pinned one). */
  expectHostKey?: string;
  template?: boolean;
  /** Shared folders the agent mounts before it serves SSH (the VMM exports them: shared/mounts.ts). */
  mounts?: readonly GuestMount[];
  timeMs?: number;
  signal: AbortSignal;
  timeoutMs: number;
  onMark?: MarkFn;
}

export interface HostControlEvents {
  stats: [Stats];
  'agent-exited': [];
  'agent-restarted': [AgentHello];
  closed: [];
}

export class HostControl extends EventEmitter<HostControlEvents> {
  private readonly splitter = new LineSplitter();
  private waiters: Array<{ type: AgentFrame['type'] | 'error'; resolve: (f: AgentFrame) => void }> = [];
  hello: AgentHello | undefined;
  lastStats: Stats | undefined;
  private failure: Error | undefined;

  constructor(private readonly stream: Duplex) {
    super();
    stream.setEncoding('utf8');
    stream.on('data', (text: string) => this.onText(text));
    stream.on('close', () => this.fail(new ControlHandshakeError('the control stream closed')));
    stream.on('error', (err) =>
      this.fail(new ControlHandshakeError(`control stream error: ${err.message}`, { cause: err })),
    );
  }

  /**
   * Offers the session at once (the guest bridge holds it until the agent listens), then waits for the
   * agent's hello and its answer: the host key to pin. `hostKey` (made by the host) replaces the agent's
   * own; `template` marks a snapshot template's session (control.ts); `timeMs` (default: now) is the wall
   * clock the guest is set to, which only a snapshot template is told otherwise.
   */
  async handshake(opts: HandshakeOptions): Promise<{ hello: AgentHello; ready: Ready }> {
    const offer: SessionOffer = {
      type: 'session',
      clientKey: opts.clientKey,
      timeMs: opts.timeMs ?? Date.now(),
      entropy: randomBytes(64).toString('base64'),
      ...(opts.hostKey ? { hostKey: opts.hostKey } : {}),
      ...(opts.template ? { template: true } : {}),
      ...(opts.mounts?.length ? { mounts: opts.mounts.map((m) => ({ ...m })) } : {}),
    };
    this.stream.write(encodeFrame(offer));
    opts.onMark?.('session offered');
    return await this.answer(
      opts,
      opts.expectHostKey ?? opts.hostKey?.publicOpenSsh,
      opts.hostKey ? 'it was given' : 'pinned for it',
    );
  }

  /**
   * Takes over the session a standby pool's keeper offered this clone (control.ts `attach`): no new keys,
   * clock or entropy from us (the keeper's offer, made for this claim alone, set them), so the guest has
   * nothing to apply and answers at once. The agent must answer with the host key that session pinned.
   */
  async attach(opts: {
    expectHostKey: string;
    signal: AbortSignal;
    timeoutMs: number;
    onMark?: MarkFn;
  }): Promise<{ hello: AgentHello; ready: Ready }> {
    this.stream.write(encodeFrame({ type: 'attach' }));
    opts.onMark?.('session attach sent');
    return await this.answer(opts, opts.expectHostKey, 'its session pinned');
  }

  private async answer(
    opts: { signal: AbortSignal; timeoutMs: number; onMark?: MarkFn },
    expected: string | undefined,
    whose: string,
  ): Promise<{ hello: AgentHello; ready: Ready }> {
    const hello = this.hello ?? ((await this.next('agent-hello', opts)) as AgentHello);
    opts.onMark?.('agent-hello received');
    if (hello.protocol !== CONTROL_PROTOCOL_VERSION) {
      throw new ControlHandshakeError(
        `the guest agent speaks control protocol ${hello.protocol}, this host ${CONTROL_PROTOCOL_VERSION}: rebuild the image (\`virtualghost image build --force\`)`,
      );
    }
    const ready = (await this.next('ready', opts)) as Ready;
    opts.onMark?.('ready received');
    if (expected && ready.hostKey !== expected) {
      throw new ControlHandshakeError(
        `the guest agent answered with host key ${ready.fingerprint}, not the one ${whose}`,
      );
    }
    return { hello, ready };
  }

  /** Asks the agent to end the VM, then ends our side of the stream (flushing the frame first). */
  requestPoweroff(): void {
    if (!this.stream.destroyed) this.stream.end(encodeFrame({ type: 'poweroff' }));
  }

  close(): void {
    this.stream.destroy();
  }

  private next(type: AgentFrame['type'], opts: { signal: AbortSignal; timeoutMs: number }): Promise<AgentFrame> {
    if (this.failure) return Promise.reject(this.failure);
    if (type === 'ready' && this.earlyReady) {
      const ready = this.earlyReady;
      this.earlyReady = undefined;
      return Promise.resolve(ready);
    }
    if (this.reported) {
      const err = this.reported;
      this.reported = undefined;
      return Promise.reject(err);
    }
    return new Promise<AgentFrame>((resolve, reject) => {
      const timer = setTimeout(
        () => done(new ControlHandshakeError(`the guest agent did not send ${type} within ${opts.timeoutMs} ms`)),
        opts.timeoutMs,
      );
      const onAbort = (): void => done(opts.signal.reason instanceof Error ? opts.signal.reason : new Error('aborted'));
      const waiter = { type, resolve: (f: AgentFrame) => done(undefined, f) };
      const done = (err?: Error, frame?: AgentFrame): void => {
        clearTimeout(timer);
        opts.signal.removeEventListener('abort', onAbort);
        this.waiters = this.waiters.filter((w) => w !== waiter);
        this.failWaiter = undefined;
        if (err) reject(err);
        else resolve(frame as AgentFrame);
      };
      this.failWaiter = (err: Error) => done(err);
      opts.signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private failWaiter: ((err: Error) => void) | undefined;
  /**
   * A ready (or an agent error) that came before anyone waited for it: the offer goes out before the
   * hello arrives, so hello and ready can land in one chunk, ahead of the wait for ready. (The hello
   * itself is kept in `hello`.)
   */
  private earlyReady: Ready | undefined;
  private reported: Error | undefined;

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    this.failWaiter?.(err);
    this.emit('closed');
  }

  private onText(text: string): void {
    let lines: string[];
    try {
      lines = this.splitter.push(text);
    } catch (err) {
      this.fail(new ControlHandshakeError(errorMessage(err), { cause: err }));
      this.stream.destroy();
      return;
    }
    for (const line of lines) {
      let frame: AgentFrame;
      try {
        frame = parseAgentFrame(line);
      } catch (err) {
        this.fail(new ControlHandshakeError(errorMessage(err), { cause: err }));
        this.stream.destroy();
        return;
      }
      this.dispatch(frame);
    }
  }

  private dispatch(frame: AgentFrame): void {
    if (frame.type === 'error') {
      const err = new ControlHandshakeError(`the guest agent reported: ${frame.message}`);
      if (this.failWaiter) this.failWaiter(err);
      else this.reported = err;
      return;
    }
    if (frame.type === 'agent-hello') {
      const restarted = this.hello !== undefined;
      this.hello = frame;
      if (restarted) this.emit('agent-restarted', frame);
    }
    if (frame.type === 'stats') {
      this.lastStats = frame;
      this.emit('stats', frame);
    }
    if (frame.type === 'agent-exited') this.emit('agent-exited');
    const waiter = this.waiters.find((w) => w.type === frame.type);
    if (waiter) waiter.resolve(frame);
    else if (frame.type === 'ready') this.earlyReady = frame;
  }
}
