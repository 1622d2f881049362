/**
 * The supervisor's socket server: status, stop, and persistent shells (see protocol.ts). Only the
 * launching user can connect (socket 0600 inside the 0700 per-VM dir).
 */
import { randomBytes } from 'node:crypto';
import type { Server, Socket } from 'node:net';
import type ssh2 from 'ssh2';
import { errorMessage } from '../../shared/errors.js';
import { countInteractiveProcesses, openPtyShell } from '../session-tui-backend.js';
import { listenPrivate } from './private-socket.js';
import { ClientQueue } from './client-queue.js';
import { PersistentShell, type ShellSubscriber } from './persistent-shell.js';
import type { SavedShell } from './saved-shells.js';
import { KEPT_SHELL_ENV } from '../../shared/kept-shell.js';
import { ConfigInvalidError } from '../config/errors.js';
import type { PortPublisher } from '../ports/publisher.js';
import {
  FRAME,
  ShellFrameDecoder,
  encodeShellFrame,
  lostPayload,
  parseRequest,
  readLine,
  type ErrorReply,
  type OpenReply,
  type PortsReply,
  type StatusReply,
} from './protocol.js';

/**
 * A shell whose channel closes without an exit status lost its SSH connection, which is how the VM's death
 * shows here first; the session learns why within ~1 s (session.ts sshLost). Its clients wait this long
 * for that reason (a LOST frame from close()) before they are told a plain exit.
 */
const LOST_REASON_WAIT_MS = 3_000;
/** After LOST frames, how long clients get to read them before their connections are cut. */
const LOST_FLUSH_MS = 2_000;

export interface SupervisorHooks {
  ssh: ssh2.Client;
  scrollback: number;
  status(): Omit<StatusReply, 'tabs' | 'clients' | 'ok' | 'ports'>;
  /** Stop the VM and exit; the reply is sent first. */
  stop(how: { discardState: boolean }): void;
  /** The VM's published ports; `portsChanged` runs after each add or remove. */
  ports: PortPublisher;
  portsChanged(): void;
  log(line: string): void;
  /** Settles if the VM dies (session.lost). */
  lost: Promise<Error>;
}

export class SupervisorServer {
  private server: Server | undefined;
  private readonly shells = new Map<number, PersistentShell>();
  private nextId = 0;
  private readonly sockets = new Set<Socket>();
  /** Connections carrying a shell (past the open reply): the ones told when the VM dies. */
  /** Each attached shell client's socket and its output queue (LOST goes after what it already has). */
  private readonly shellSockets = new Map<Socket, ClientQueue>();

  constructor(private readonly hooks: SupervisorHooks) {}

  async listen(path: string): Promise<void> {
    this.server = await listenPrivate(path, (sock) => {
      void this.serve(sock);
    });
  }

  get clientCount(): number {
    let n = 0;
    for (const s of this.shells.values()) n += s.clients;
    return n;
  }

  /**
   * Ends every connection; with `lost` (why the VM died), shell clients are first told that (a LOST frame).
   * `keepShells` (before a save): the guest shells' channels are left for the end of the SSH connection,
   * which detaches them in the guest (kept-shells.ts); closing a channel by itself hangs its shell up.
   */
  async close(lost?: string, keepShells = false): Promise<void> {
    if (lost !== undefined) {
      const told = [...this.shellSockets]
        .filter(([sock]) => !sock.writableEnded)
        .map(
          ([sock, out]) =>
            new Promise<void>((r) => {
              sock.once('close', () => r());
              out.end(encodeShellFrame(FRAME.LOST, lostPayload(lost)));
            }),
        );
      await Promise.race([Promise.all(told), new Promise((r) => setTimeout(r, LOST_FLUSH_MS).unref())]);
    }
    for (const s of this.sockets) s.destroy();
    if (!keepShells) for (const shell of this.shells.values()) shell.close();
    const server = this.server;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  private adopt(shell: PersistentShell): PersistentShell {
    this.shells.set(shell.id, shell);
    const id = shell.id;
    void shell.exited.then((st) => {
      this.shells.delete(id);
      this.hooks.log(`shell ${id} exited (${st.code ?? st.signal ?? '?'})`);
    });
    return shell;
  }

  /**
   * Before the VM is saved: each live tab's guest shell id and screen (saved-shells.ts). Output that
   * arrives after this and before the SSH connection ends is not on the saved screen (the agent keeps only
   * what comes after its shell is detached), a short window.
   */
  async saveScreens(): Promise<SavedShell[]> {
    const live = [...this.shells.values()].filter((sh) => sh.alive);
    return await Promise.all(live.map(async (sh) => ({ tab: sh.id, guestId: sh.guestId, ...(await sh.saveScreen()) })));
  }

  /**
   * After a resume, before listen(): re-attaches the guest shells kept across the save, each tab under
   * its old number with its saved screen, then what the shell printed while detached. A shell the agent
   * no longer has (it ended) is left out, with a log line.
   */
  async restoreShells(saved: readonly SavedShell[]): Promise<void> {
    for (const sh of saved) {
      try {
        const channel = await openPtyShell(this.hooks.ssh, { cols: sh.cols, rows: sh.rows }, undefined, {
          [KEPT_SHELL_ENV.id]: sh.guestId,
          [KEPT_SHELL_ENV.reattach]: '1',
        });
        this.adopt(
          new PersistentShell(
            sh.tab,
            sh.guestId,
            channel,
            sh.cols,
            sh.rows,
            this.hooks.scrollback,
            undefined,
            sh.screen,
          ),
        );
        this.nextId = Math.max(this.nextId, sh.tab + 1);
        this.hooks.log(
          `tab ${sh.tab} re-attached to its shell in the guest${sh.screen ? ' with its saved screen' : ''}`,
        );
      } catch (err) {
        this.hooks.log(`tab ${sh.tab} is gone: its shell in the guest could not be re-attached (${errorMessage(err)})`);
      }
    }
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
        this.reply(
          sock,
          {
            ok: true,
            ...this.hooks.status(),
            ports: this.hooks.ports.list(),
            tabs: [...this.shells.values()].map((s) => ({ id: s.id, title: s.title, clients: s.clients })),
            clients: this.clientCount,
          } satisfies StatusReply,
          true,
        );
        return;
      case 'processes':
        try {
          this.reply(sock, { ok: true, count: await countInteractiveProcesses(this.hooks.ssh) }, true);
        } catch (err) {
          this.reply(sock, { ok: false, error: errorMessage(err) }, true);
        }
        return;
      case 'stop':
        this.reply(sock, { ok: true }, true);
        this.hooks.stop({ discardState: req.discardState ?? false });
        return;
      case 'open':
        await this.open(sock, req, rest);
        return;
      case 'ports':
      case 'port-add':
      case 'port-rm':
        await this.changePorts(sock, req);
    }
  }

  private async changePorts(
    sock: Socket,
    req: { op: 'ports' } | { op: 'port-add'; port: PortsReply['ports'][number] } | { op: 'port-rm'; hostPort: number },
  ): Promise<void> {
    const ports = this.hooks.ports;
    try {
      if (req.op === 'port-add') await ports.add(req.port);
      if (req.op === 'port-rm') await ports.remove(req.hostPort);
    } catch (err) {
      this.reply(
        sock,
        {
          ok: false,
          error: errorMessage(err),
          ...(err instanceof ConfigInvalidError ? { code: 'CONFIG_INVALID' as const } : {}),
        },
        true,
      );
      return;
    }
    if (req.op !== 'ports') {
      this.hooks.log(
        `published ports now: ${
          ports
            .list()
            .map((p) => `${p.hostIp}:${p.hostPort}->${p.guestPort}`)
            .join(', ') || 'none'
        }`,
      );
      this.hooks.portsChanged();
    }
    this.reply(sock, { ok: true, ports: ports.list() } satisfies PortsReply, true);
  }

  private reply(
    sock: Socket,
    body: StatusReply | OpenReply | PortsReply | ErrorReply | { ok: true; count?: number },
    end: boolean,
  ): void {
    const line = `${JSON.stringify(body)}\n`;
    if (end) sock.end(line);
    else sock.write(line);
  }

  private async open(
    sock: Socket,
    req: { tab?: number | undefined; cols: number; rows: number },
    rest: Buffer,
  ): Promise<void> {
    let shell: PersistentShell | undefined;
    if (req.tab !== undefined) {
      shell = this.shells.get(req.tab);
      if (!shell?.alive) {
        this.reply(sock, { ok: false, error: `no shell ${req.tab} in this VM` }, true);
        return;
      }
    } else {
      try {
        const guestId = randomBytes(16).toString('hex');
        const size = { cols: req.cols, rows: req.rows };
        const channel = await openPtyShell(this.hooks.ssh, size, undefined, { [KEPT_SHELL_ENV.id]: guestId });
        shell = this.adopt(
          new PersistentShell(this.nextId++, guestId, channel, req.cols, req.rows, this.hooks.scrollback),
        );
      } catch (err) {
        this.reply(sock, { ok: false, error: `could not open a shell in the guest: ${errorMessage(err)}` }, true);
        return;
      }
    }
    const target = shell;
    const out = new ClientQueue(sock, () => {
      target.drained();
    });
    const sub: ShellSubscriber = {
      data: (bytes) => {
        out.send(encodeShellFrame(FRAME.DATA, bytes));
      },
      backlog: () => out.backlog,
      exit: (status) => {
        const exit = (): void => {
          out.end(encodeShellFrame(FRAME.EXIT, Buffer.from(JSON.stringify(status))));
        };
        if (status.code !== null || status.signal !== null) return exit();
        // No exit status: the connection broke. If the VM died, close() tells this client so (LOST).
        const wait = new Promise<false>((r) => setTimeout(() => r(false), LOST_REASON_WAIT_MS).unref());
        void Promise.race([this.hooks.lost.then(() => true), wait]).then((lost) => {
          if (!lost) exit();
        });
      },
      drop: (reason) => {
        const name = this.hooks.status().name;
        this.hooks.log(`dropped a client of shell ${target.id} that fell too far behind: ${reason}`);
        out.drop(
          encodeShellFrame(
            FRAME.DROP,
            Buffer.from(
              `you fell too far behind VM ${name}'s output and were disconnected (${reason}); re-attach: \`virtualghost attach ${name}\``,
              'utf8',
            ),
          ),
        );
      },
    };
    sock.on('close', () => {
      this.shellSockets.delete(sock);
      target.detach(sub);
    });
    const screen = await target.attach(sub, req.cols, req.rows);
    if (sock.destroyed) return;
    this.shellSockets.set(sock, out);
    this.reply(sock, { ok: true, tab: target.id }, false);
    if (screen.length) sock.write(encodeShellFrame(FRAME.DATA, screen));
    const decoder = new ShellFrameDecoder();
    const onData = (chunk: Buffer): void => {
      try {
        decoder.push(chunk, (type, payload) => {
          if (type === FRAME.DATA) target.input(payload);
          else if (type === FRAME.RESIZE && payload.length === 4)
            target.resize(payload.readUInt16BE(0), payload.readUInt16BE(2));
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
