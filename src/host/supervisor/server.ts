/**
 * The supervisor's socket server: status, stop, and persistent shells (see protocol.ts). Only the
 * launching user can connect (socket 0600 inside the 0700 per-VM dir).
 */
import type { Server, Socket } from 'node:net';
import type ssh2 from 'ssh2';
import { errorMessage } from '../../shared/errors.js';
import { countInteractiveProcesses, openPtyShell } from '../tui-backend.js';
import { listenPrivate } from './private-socket.js';
import { PersistentShell, type ShellSubscriber } from './persistent-shell.js';
import { FRAME, FrameDecoder, encodeFrame, parseRequest, readLine, type ErrorReply, type OpenReply, type StatusReply } from './protocol.js';

export interface SupervisorHooks {
  ssh: ssh2.Client;
  scrollback: number;
  status(): Omit<StatusReply, 'tabs' | 'clients' | 'ok'>;
  /** Stop the VM and exit; the reply is sent first. */
  stop(): void;
  log(line: string): void;
}

export class SupervisorServer {
  private server: Server | undefined;
  private readonly shells = new Map<number, PersistentShell>();
  private nextId = 0;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly hooks: SupervisorHooks) {}

  async listen(path: string): Promise<void> {
    this.server = await listenPrivate(path, (sock) => { void this.serve(sock); });
  }

  get clientCount(): number {
    let n = 0;
    for (const s of this.shells.values()) n += s.clients;
    return n;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    for (const shell of this.shells.values()) shell.close();
    const server = this.server;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  private async serve(sock: Socket): Promise<void> {
    this.sockets.add(sock);
    sock.on('close', () => this.sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    let req;
    let rest: Buffer;
    try {
      const first = await readLine(sock);
      rest = first.rest;
      req = parseRequest(first.line);
    } catch (err) {
      this.reply(sock, { ok: false, error: `bad request: ${errorMessage(err)}` }, true);
      return;
    }
    switch (req.op) {
      case 'status':
        this.reply(sock, { ok: true, ...this.hooks.status(), tabs: [...this.shells.values()].map((s) => ({ id: s.id, title: s.title, clients: s.clients })), clients: this.clientCount } satisfies StatusReply, true);
        return;
      case 'processes':
        this.reply(sock, { ok: true, count: await countInteractiveProcesses(this.hooks.ssh) }, true);
        return;
      case 'stop':
        this.reply(sock, { ok: true }, true);
        this.hooks.stop();
        return;
      case 'open':
        await this.open(sock, req, rest);
    }
  }

  private reply(sock: Socket, body: StatusReply | OpenReply | ErrorReply | { ok: true; count?: number }, end: boolean): void {
    const line = `${JSON.stringify(body)}\n`;
    if (end) sock.end(line);
    else sock.write(line);
  }

  private async open(sock: Socket, req: { tab?: number | undefined; cols: number; rows: number }, rest: Buffer): Promise<void> {
    let shell: PersistentShell | undefined;
    if (req.tab !== undefined) {
      shell = this.shells.get(req.tab);
      if (!shell?.alive) {
        this.reply(sock, { ok: false, error: `no shell ${req.tab} in this VM` }, true);
        return;
      }
    } else {
      try {
        const channel = await openPtyShell(this.hooks.ssh, { cols: req.cols, rows: req.rows });
        shell = new PersistentShell(this.nextId++, channel, req.cols, req.rows, this.hooks.scrollback);
        this.shells.set(shell.id, shell);
        const id = shell.id;
        void shell.exited.then((st) => {
          this.shells.delete(id);
          this.hooks.log(`shell ${id} exited (${st.code ?? st.signal ?? '?'})`);
        });
      } catch (err) {
        this.reply(sock, { ok: false, error: `could not open a shell in the guest: ${errorMessage(err)}` }, true);
        return;
      }
    }
    const target = shell;
    const sub: ShellSubscriber = {
      data: (bytes) => sock.write(encodeFrame(FRAME.DATA, bytes)),
      exit: (status) => sock.end(encodeFrame(FRAME.EXIT, Buffer.from(JSON.stringify(status)))),
    };
    sock.on('drain', () => target.drained(sub));
    sock.on('close', () => target.detach(sub));
    const screen = await target.attach(sub, req.cols, req.rows);
    if (sock.destroyed) return;
    this.reply(sock, { ok: true, tab: target.id }, false);
    if (screen.length) sock.write(encodeFrame(FRAME.DATA, screen));
    const decoder = new FrameDecoder();
    const onData = (chunk: Buffer): void => {
      try {
        decoder.push(chunk, (type, payload) => {
          if (type === FRAME.DATA) target.input(payload);
          else if (type === FRAME.RESIZE && payload.length === 4) target.resize(payload.readUInt16BE(0), payload.readUInt16BE(2));
        });
      } catch (err) {
        this.hooks.log(`client sent a bad frame: ${errorMessage(err)}`);
        sock.destroy();
      }
    };
    if (rest.length) onData(rest);
    sock.on('data', onData);
    sock.resume();
  }
}
