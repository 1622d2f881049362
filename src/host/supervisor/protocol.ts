/**
 * The supervisor's socket (`supervisor.sock` in the per-VM dir, 0600). Every connection starts with one
 * JSON request line; the supervisor answers with one JSON line. For `open`, the connection then carries one
 * persistent shell as frames in both directions:
 *   [type u8][length u32 BE][payload]   DATA (bytes), RESIZE (u16 cols, u16 rows), EXIT (JSON {code, signal}),
 *                                      DROP (UTF-8 reason; supervisor → client, then the connection ends)
 *                                      LOST (JSON {message}: the VM died; the supervisor ends the connection)
 * One connection per shell and client; each client's output is queued apart (client-queue.ts), so the shell
 * keeps its fastest client's pace and one that falls too far behind is sent DROP (persistent-shell.ts).
 */
import type { Duplex } from 'node:stream';
import * as v from 'valibot';
import { errorMessage, ProtocolViolationError } from '../../shared/errors.js';
import { INSTANCE_FILES } from '../store/instance-files.js';
import { PublishedPortSchema, type PublishedPort } from '../ports/spec.js';

export const SUPERVISOR_SOCKET = INSTANCE_FILES.supervisorSocket;
export const SUPERVISOR_LOG = INSTANCE_FILES.supervisorLog;

const Size = {
  cols: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(4096)),
  rows: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(4096)),
};

export const RequestSchema = v.variant('op', [
  v.object({ op: v.literal('status') }),
  // A kept VM is saved as it runs (suspend-vm.ts) unless discardState: then only its disk is kept.
  v.object({ op: v.literal('stop'), discardState: v.optional(v.boolean()) }),
  v.object({ op: v.literal('processes') }),
  v.object({ op: v.literal('open'), tab: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))), ...Size }),
  // Published ports: list, add one, remove every one on a host port. Each answers with a PortsReply.
  v.object({ op: v.literal('ports') }),
  v.object({ op: v.literal('port-add'), port: PublishedPortSchema }),
  v.object({ op: v.literal('port-rm'), hostPort: PublishedPortSchema.entries.hostPort }),
]);
export type Request = v.InferOutput<typeof RequestSchema>;

/** The request line a client sent; anything else is a ProtocolViolationError naming what is wrong. */
export function parseRequest(line: string): Request {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (err) {
    throw new ProtocolViolationError(`not JSON: ${errorMessage(err)}`);
  }
  const result = v.safeParse(RequestSchema, json);
  if (!result.success)
    throw new ProtocolViolationError(
      result.issues.map((i) => `${v.getDotPath(i) ?? 'request'}: ${i.message}`).join('; '),
    );
  return result.output;
}

const ExitStatusSchema = v.object({
  code: v.nullable(v.pipe(v.number(), v.integer())),
  signal: v.nullable(v.string()),
});
export type ExitStatus = v.InferOutput<typeof ExitStatusSchema>;

/** An EXIT frame's payload: JSON {code, signal}; anything else is a ProtocolViolationError. */
export function parseExitStatus(payload: Buffer): ExitStatus {
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    throw new ProtocolViolationError(`EXIT frame is not JSON: ${errorMessage(err)}`);
  }
  const result = v.safeParse(ExitStatusSchema, json);
  if (!result.success)
    throw new ProtocolViolationError(`EXIT frame is not {code, signal}: ${result.issues[0]?.message ?? 'invalid'}`);
  return result.output;
}

export interface TabInfo {
  id: number;
  title: string;
  clients: number;
}

export interface StatusReply {
  ok: true;
  pid: number;
  name: string;
  backend: string;
  accel: string;
  vcpus: number;
  memoryMiB: number;
  readyMs: number;
  startedAt: number;
  restoredFrom?: string;
  tabs: TabInfo[];
  clients: number;
  guestCpuPercent?: number;
  guestMemUsedBytes?: number;
  guestMemTotalBytes?: number;
  ports?: PublishedPort[];
}
export interface PortsReply {
  ok: true;
  ports: PublishedPort[];
}
export interface OpenReply {
  ok: true;
  tab: number;
}
export interface ErrorReply {
  ok: false;
  error: string;
  /** The request's value was at fault (a port in use, one not published): the client exits 65, not 76. */
  code?: 'CONFIG_INVALID';
}

export const FRAME = { DATA: 1, RESIZE: 2, EXIT: 3, DROP: 4, LOST: 5 } as const;
export type FrameType = (typeof FRAME)[keyof typeof FRAME];
const HEADER = 5;
/** Bounds what a peer can make us buffer for one frame. */
export const MAX_FRAME = 1 << 20;

export function encodeShellFrame(type: FrameType, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(HEADER + payload.length);
  out.writeUInt8(type, 0);
  out.writeUInt32BE(payload.length, 1);
  out.set(payload, HEADER);
  return out;
}

export function resizePayload(cols: number, rows: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16BE(cols, 0);
  b.writeUInt16BE(rows, 2);
  return b;
}

/** A LOST frame's payload: why the VM is gone (the session's message, console tail included). */
export function lostPayload(message: string): Buffer {
  return Buffer.from(JSON.stringify({ message }), 'utf8');
}

/** Reads a LOST frame's message; anything malformed still says that the VM is gone. */
export function parseLost(payload: Buffer): string {
  try {
    const { message } = JSON.parse(payload.toString('utf8')) as { message?: unknown };
    if (typeof message === 'string' && message) return message;
  } catch {
    // fall through
  }
  return 'the VM died (the supervisor gave no reason)';
}

/** Splits a byte stream into frames; throws ProtocolViolationError on a frame type or size the protocol does not have. */
export class ShellFrameDecoder {
  private buf: Buffer = Buffer.alloc(0);
  /** Bytes held for an incomplete frame (read-only: the fuzzer checks it stays under HEADER + MAX_FRAME). */
  get heldBytes(): number {
    return this.buf.length;
  }
  push(chunk: Buffer, onFrame: (type: FrameType, payload: Buffer) => void): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= HEADER) {
      const type = this.buf.readUInt8(0);
      const len = this.buf.readUInt32BE(1);
      if (
        type !== FRAME.DATA &&
        type !== FRAME.RESIZE &&
        type !== FRAME.EXIT &&
        type !== FRAME.DROP &&
        type !== FRAME.LOST
      )
        throw new ProtocolViolationError(`unknown frame type ${type}`);
      if (len > MAX_FRAME) throw new ProtocolViolationError(`frame of ${len} bytes exceeds ${MAX_FRAME}`);
      if (this.buf.length < HEADER + len) return;
      const payload = this.buf.subarray(HEADER, HEADER + len);
      this.buf = this.buf.subarray(HEADER + len);
      onFrame(type as FrameType, payload);
    }
  }
}

/** Reads the first line (the request or reply) off a socket; the rest stays in `rest` for the frames. */
export function readLine(sock: Duplex, max = 64 << 10): Promise<{ line: string; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0);
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      const nl = buf.indexOf(0x0a);
      // The limit holds for a complete line too: one read can bring an over-long line and its newline.
      if (nl > max || (nl < 0 && buf.length > max)) {
        cleanup();
        reject(new Error(`line longer than ${max} bytes`));
      } else if (nl >= 0) {
        cleanup();
        sock.pause();
        resolve({ line: buf.subarray(0, nl).toString('utf8'), rest: buf.subarray(nl + 1) });
      }
    };
    const onEnd = (): void => {
      cleanup();
      reject(new Error('connection closed before a complete line'));
    };
    const onError = (e: Error): void => {
      cleanup();
      reject(e);
    };
    const cleanup = (): void => {
      sock.removeListener('data', onData);
      sock.removeListener('end', onEnd);
      sock.removeListener('error', onError);
    };
    sock.on('data', onData);
    sock.once('end', onEnd);
    sock.once('error', onError);
    sock.resume();
  });
}
