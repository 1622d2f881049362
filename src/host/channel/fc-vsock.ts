/**
 * Host side of Firecracker's hybrid vsock (reference: docs/vsock.md, "Host-Initiated Connections").
 *
 * Protocol: connect to the device's `uds_path` Unix socket, send `CONNECT <port>\n` in ONE write, then read
 * `OK <hostport>\n`; from then on the socket is a plain byte stream to the guest's AF_VSOCK listener.
 * If nobody listens on that guest port Firecracker closes the connection (EOF, no OK). While the guest is
 * still booting there may be no answer at all. So each attempt has its own short deadline and every
 * "not yet" outcome is retried with backoff until the caller's overall timeout.
 *
 * The OK line may arrive split across reads, and stream bytes may follow it in the same read: we read in
 * paused mode, stop exactly at the first '\n', and `unshift` whatever came after back into the socket.
 */
import { connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { GuestChannel } from '../vm/driver.js';
import { VsockConnectTimeoutError, VsockHandshakeError } from './fc-vsock-errors.js';
import { AckReader, MAX_ACK_LINE_BYTES } from './vsock-ack.js';

export { MAX_ACK_LINE_BYTES };

export interface HybridVsockConnectOptions {
  /** Host path of the vsock device's Unix socket (`uds_path`). */
  readonly udsPath: string;
  /** Guest AF_VSOCK port. */
  readonly port: number;
  readonly signal: AbortSignal;
  /** Overall deadline for all attempts. */
  readonly timeoutMs: number;
  /** Deadline of one attempt waiting for `OK` (a booting guest may never answer a given attempt). */
  readonly attemptTimeoutMs?: number;
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
}

/** `timedOut`: the attempt heard nothing within its budget (as opposed to an EOF or an error it saw). */
type AttemptResult = { ok: true; socket: Socket } | { ok: false; reason: string; timedOut?: true };

export async function connectHybridVsock(opts: HybridVsockConnectOptions): Promise<Duplex> {
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 0xffff_ffff)
    throw new RangeError(`invalid vsock port ${opts.port}`);
  opts.signal.throwIfAborted();
  const deadline = Date.now() + opts.timeoutMs;
  let backoff = opts.initialBackoffMs ?? 25;
  const maxBackoff = opts.maxBackoffMs ?? 500;
  let lastReason = 'no attempt made';
  let attempts = 0;
  for (;;) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    attempts++;
    const fullBudget = opts.attemptTimeoutMs ?? 2_000;
    const result = await attempt(opts, Math.min(fullBudget, remaining));
    if (result.ok) return result.socket;
    // The last attempt is often cut short by the overall deadline; its silence says nothing new, so it
    // does not hide what an earlier attempt actually saw (e.g. an EOF: nothing listening in the guest).
    const cutShort = result.timedOut === true && remaining < fullBudget;
    if (!(cutShort && attempts > 1)) lastReason = result.reason;
    const wait = Math.min(backoff, deadline - Date.now());
    if (wait <= 0) break;
    await sleep(wait, opts.signal);
    backoff = Math.min(backoff * 2, maxBackoff);
  }
  throw new VsockConnectTimeoutError(
    `no guest answer on vsock port ${opts.port} via ${opts.udsPath} within ${opts.timeoutMs} ms ` +
      `(${attempts} attempts; last: ${lastReason}). Is the guest agent running? See the VM console log.`,
  );
}

/**
 * One connection attempt. Resolves `{ok:false}` for outcomes worth retrying, rejects for protocol
 * violations (retrying would not help) and for abort.
 */
function attempt(opts: HybridVsockConnectOptions, attemptTimeoutMs: number): Promise<AttemptResult> {
  return new Promise<AttemptResult>((resolve, reject) => {
    const socket = netConnect(opts.udsPath);
    const ack = new AckReader();
    let settled = false;

    const finish = (outcome: { result: AttemptResult } | { error: unknown }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal.removeEventListener('abort', onAbort);
      socket
        .off('connect', onConnect)
        .off('readable', onReadable)
        .off('end', onEnd)
        .off('error', onError)
        .off('close', onClose);
      if ('error' in outcome) {
        socket.destroy();
        reject(outcome.error);
      } else {
        if (!outcome.result.ok) socket.destroy();
        resolve(outcome.result);
      }
    };

    const onAbort = (): void => finish({ error: opts.signal.reason });
    const onConnect = (): void => {
      // One write: Firecracker parses the command from the first bytes it reads.
      socket.write(`CONNECT ${opts.port}\n`);
    };
    const onReadable = (): void => {
      let chunk: Buffer | null;
      while (!settled && (chunk = socket.read() as Buffer | null) !== null) {
        const result = ack.push(chunk);
        if (result.kind === 'more') continue;
        if (result.kind === 'bad') {
          const what =
            result.why === 'too-long'
              ? `acknowledgement line longer than ${MAX_ACK_LINE_BYTES} bytes without a newline (${result.shown}); expected "OK <port>\\n"`
              : `expected "OK <port>\\n", got ${result.shown}`;
          return finish({ error: new VsockHandshakeError(`vsock ${opts.udsPath} port ${opts.port}: ${what}`) });
        }
        // Bytes after the OK line already belong to the guest stream: give them back to the socket.
        if (result.rest.length > 0) socket.unshift(result.rest);
        return finish({ result: { ok: true, socket } });
      }
    };
    const onEnd = (): void =>
      finish({ result: { ok: false, reason: `EOF before "OK" (nothing listening on guest port ${opts.port} yet)` } });
    const onClose = (): void =>
      finish({ result: { ok: false, reason: `connection closed before "OK" on guest port ${opts.port}` } });
    const onError = (err: NodeJS.ErrnoException): void =>
      finish({ result: { ok: false, reason: `${err.code ?? 'error'} on ${opts.udsPath}: ${err.message}` } });

    const timer = setTimeout(
      () =>
        finish({
          result: {
            ok: false,
            reason: `no answer to CONNECT ${opts.port} within ${attemptTimeoutMs} ms`,
            timedOut: true,
          },
        }),
      attemptTimeoutMs,
    );
    opts.signal.addEventListener('abort', onAbort, { once: true });
    socket
      .on('connect', onConnect)
      .on('readable', onReadable)
      .on('end', onEnd)
      .on('error', onError)
      .on('close', onClose);
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** A GuestChannel onto one guest vsock port through Firecracker's `uds_path`. */
export class HybridVsockChannel implements GuestChannel {
  constructor(
    readonly udsPath: string,
    readonly port: number,
  ) {}

  connect(opts: { signal: AbortSignal; timeoutMs: number }): Promise<Duplex> {
    return connectHybridVsock({
      udsPath: this.udsPath,
      port: this.port,
      signal: opts.signal,
      timeoutMs: opts.timeoutMs,
    });
  }
}
