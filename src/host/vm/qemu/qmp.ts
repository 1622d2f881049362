/**
 * A QMP client: one JSON object per line; the greeting, then `qmp_capabilities`, then commands answered
 * in order (`return` / `error`); asynchronous events are skipped.
 */
import { connect, type Socket } from 'node:net';
import { GhostError } from '../../../shared/errors.js';

export class QmpError extends GhostError {
  readonly code = 'QMP_FAILED';
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void; cmd: string };

export class QmpClient {
  private buffer = '';
  private readonly pending: Pending[] = [];
  private closed = false;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => this.onData(d));
    socket.on('close', () => this.failAll(new QmpError('QMP connection closed (the VMM exited?)')));
    socket.on('error', (err) => this.failAll(new QmpError(`QMP socket error: ${err.message}`, { cause: err })));
  }

  static async connect(path: string, timeoutMs = 10_000): Promise<QmpClient> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(path);
      const timer = setTimeout(
        () => s.destroy(new Error(`no QMP answer on ${path} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      s.once('connect', () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    const client = new QmpClient(socket);
    // The greeting is answered like a command: queue a waiter for it, then negotiate capabilities.
    await new Promise<unknown>((resolve, reject) => client.pending.push({ resolve, reject, cmd: '(greeting)' }));
    await client.execute('qmp_capabilities');
    return client;
  }

  async execute(cmd: string, args?: Record<string, unknown>): Promise<unknown> {
    if (this.closed) throw new QmpError(`QMP ${cmd}: connection is closed`);
    return await new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject, cmd });
      this.socket.write(`${JSON.stringify(args ? { execute: cmd, arguments: args } : { execute: cmd })}\n`);
    });
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (!line) continue;
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      if ('event' in msg) continue;
      const waiter = this.pending.shift();
      if (!waiter) continue;
      if ('error' in msg) {
        const e = msg['error'] as { class?: string; desc?: string };
        waiter.reject(new QmpError(`QMP ${waiter.cmd}: ${e.class ?? 'Error'}: ${e.desc ?? 'unknown'}`));
      } else waiter.resolve(msg['return'] ?? msg['QMP']);
    }
  }

  private failAll(err: Error): void {
    this.closed = true;
    for (const p of this.pending.splice(0)) p.reject(err);
  }
}
