/** Talking to a VM's supervisor over its socket: one-shot requests, and persistent shells as ShellStreams. */
import { connect, type Socket } from 'node:net';
import { errorMessage } from '../../shared/errors.js';
import type { ShellStream } from '../tui/index.js';
import { escapeControl } from '../../shared/escape-control.js';
import { ConfigInvalidError } from '../config/errors.js';
import { SupervisorClientDroppedError, SupervisorRequestError } from './errors.js';
import {
  FRAME,
  ShellFrameDecoder,
  encodeShellFrame,
  parseExitStatus,
  parseLost,
  readLine,
  resizePayload,
  type ExitStatus,
  type Request,
} from './protocol.js';

const REQUEST_TIMEOUT_MS = 10_000;

async function connected(path: string): Promise<Socket> {
  return await new Promise<Socket>((resolve, reject) => {
    const sock = connect(path);
    sock.once('connect', () => {
      sock.removeListener('error', reject);
      resolve(sock);
    });
    sock.once('error', (err) =>
      reject(new SupervisorRequestError(`cannot reach the VM's supervisor at ${path}: ${err.message}`, { cause: err })),
    );
  });
}

async function exchange(
  path: string,
  req: Request,
): Promise<{ sock: Socket; reply: Record<string, unknown>; rest: Buffer }> {
  const sock = await connected(path);
  sock.setTimeout(REQUEST_TIMEOUT_MS, () => sock.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)));
  try {
    sock.write(`${JSON.stringify(req)}\n`);
    const { line, rest } = await readLine(sock);
    sock.setTimeout(0);
    const reply = JSON.parse(line) as Record<string, unknown>;
    if (reply['ok'] !== true && reply['code'] === 'CONFIG_INVALID')
      throw new ConfigInvalidError(String(reply['error']));
    if (reply['ok'] !== true)
      throw new SupervisorRequestError(
        `the VM's supervisor refused ${req.op}: ${String(reply['error'] ?? 'no reason given')}`,
      );
    return { sock, reply, rest };
  } catch (err) {
    sock.destroy();
    if (err instanceof SupervisorRequestError || err instanceof ConfigInvalidError) throw err;
    throw new SupervisorRequestError(`the VM's supervisor (${path}) did not answer ${req.op}: ${errorMessage(err)}`, {
      cause: err,
    });
  }
}

export async function request<T extends Record<string, unknown>>(path: string, req: Request): Promise<T> {
  const { sock, reply } = await exchange(path, req);
  sock.destroy();
  return reply as T;
}

export interface RemoteShell extends ShellStream {
  readonly tab: number;
  /** Set if the supervisor said the VM died (a LOST frame): why, as it said it. */
  readonly vmLost: string | undefined;
}

/**
 * A persistent shell in the VM (a new one, or `tab`). `close()` only disconnects: the shell keeps running
 * in the VM until it exits; `exited` settles with its status, or with `lost` if the connection ends first.
 */
export async function openRemoteShell(
  path: string,
  opts: { tab?: number; cols: number; rows: number },
): Promise<RemoteShell & { readonly detachedOrLost: Promise<boolean> }> {
  const { sock, reply, rest } = await exchange(path, {
    op: 'open',
    ...(opts.tab !== undefined ? { tab: opts.tab } : {}),
    cols: opts.cols,
    rows: opts.rows,
  });
  const listeners: Array<(d: Uint8Array) => void> = [];
  const early: Uint8Array[] = [];
  let status: ExitStatus | undefined;
  /** Why the supervisor disconnected us (we fell too far behind), if it did. */
  let dropped: string | undefined;
  let vmLost: string | undefined;
  const decoder = new ShellFrameDecoder();
  const onChunk = (chunk: Buffer): void => {
    try {
      decoder.push(chunk, (type, payload) => {
        if (type === FRAME.DATA) {
          const copy = Buffer.from(payload);
          if (listeners.length) for (const l of listeners) l(copy);
          else early.push(copy);
        } else if (type === FRAME.EXIT) {
          status = parseExitStatus(payload);
        } else if (type === FRAME.DROP) {
          dropped = payload.toString('utf8');
        } else if (type === FRAME.LOST) {
          vmLost = parseLost(payload);
        }
      });
    } catch {
      sock.destroy();
    }
  };
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve, reject) => {
    sock.on('close', () =>
      dropped !== undefined
        ? reject(new SupervisorClientDroppedError(escapeControl(dropped)))
        : resolve(status ?? { code: null, signal: 'SIGHUP' }),
    );
  });
  sock.on('error', () => {});
  if (rest.length) onChunk(rest);
  sock.on('data', onChunk);
  sock.resume();
  return {
    tab: reply['tab'] as number,
    get vmLost() {
      return vmLost;
    },
    write: (data) => {
      sock.write(encodeShellFrame(FRAME.DATA, typeof data === 'string' ? Buffer.from(data, 'utf8') : data));
    },
    onData: (cb) => {
      listeners.push(cb);
      for (const d of early.splice(0)) cb(d);
    },
    resize: (cols, rows) => {
      sock.write(encodeShellFrame(FRAME.RESIZE, resizePayload(cols, rows)));
    },
    close: () => {
      sock.end();
    },
    pause: () => {
      sock.pause();
    },
    resume: () => {
      sock.resume();
    },
    exited,
    /** True when the connection ended without the shell exiting (detach, or the supervisor died). */
    detachedOrLost: exited.then(
      () => status === undefined,
      () => false,
    ),
  };
}
