/**
 * The agent's SSH server (ssh2). Sockets arrive from our own listener (one per host connection, via
 * the bridge) and are injected, so the host key can change (after a snapshot restore) without
 * re-binding. Only public-key auth with the injected client key; sessions get PTY shells, exec over
 * pipes, and the SFTP subsystem; TCP and Unix-socket forwarding both ways (forwarding.ts).
 */
import type { Socket } from 'node:net';
import ssh2 from 'ssh2';
import type { Connection, PseudoTtyInfo, ServerChannel, Session } from 'ssh2';
import { authenticate } from './ssh-auth.js';
import { execWithPipes } from './exec-pipes.js';
import { attachPty, runOnPty, spawnOnPty, type PtyHandle, type PtyRequest } from './pty-session.js';
import type { SpareShell } from './spare-shell.js';
import { takeKeptShellRequest, type KeptShells } from './kept-shells.js';
import { serveSftp } from './sftp.js';
import { serveForwarding } from './forwarding.js';

export interface SshServerDeps {
  hostKeyPem(): string;
  allowedClientKey(): string | undefined;
  /** A login shell started ahead of time, for the first matching PTY shell request. */
  spare?: SpareShell;
  /** Shells kept across the loss of their connection, for the supervisor's tabs (kept-shells.ts). */
  kept: KeptShells;
  log(msg: string): void;
}

export class AgentSshServer {
  private server: ssh2.Server;
  private currentPem: string;

  constructor(private readonly deps: SshServerDeps) {
    this.currentPem = deps.hostKeyPem();
    this.server = this.build(this.currentPem);
  }

  handle(socket: Socket): void {
    const pem = this.deps.hostKeyPem();
    if (pem !== this.currentPem) {
      this.currentPem = pem;
      this.server = this.build(pem);
    }
    this.server.injectSocket(socket);
  }

  private build(pem: string): ssh2.Server {
    const server = new ssh2.Server({ hostKeys: [pem], ident: 'ghostly-agent' }, (client) => this.onClient(client));
    server.on('error', (err: Error) => this.deps.log(`ssh: ${err.message}`));
    return server;
  }

  private onClient(client: Connection): void {
    client.on('error', (err) => this.deps.log(`ssh client: ${err.message}`));
    client.on('authentication', (ctx) => authenticate(ctx, this.deps.allowedClientKey()));
    // ssh2 emits these before it closes the connection's channels: a kept shell then detaches (kept-shells.ts).
    let gone = false;
    const connectionGone = (): boolean => gone;
    client.on('end', () => (gone = true));
    client.on('close', () => (gone = true));
    client.on('ready', () => {
      client.on('session', (accept) => this.onSession(accept(), connectionGone));
      serveForwarding(client, this.deps.log);
    });
  }

  private onSession(session: Session, connectionGone: () => boolean): void {
    const env: Record<string, string> = {};
    let ptyReq: PtyRequest | undefined;
    let ptyHandle: PtyHandle | undefined;
    session.on('env', (accept, _reject, info) => {
      env[info.key] = info.val;
      accept?.();
    });
    session.on('pty', (accept, _reject, info: PseudoTtyInfo) => {
      ptyReq = { term: info.term || 'xterm-256color', cols: info.cols, rows: info.rows };
      accept?.();
    });
    session.on('window-change', (accept, _reject, info) => {
      if (ptyReq) ptyReq = { ...ptyReq, cols: info.cols, rows: info.rows };
      ptyHandle?.resize(info.cols, info.rows);
      accept?.();
    });
    session.on('shell', (accept, reject) => {
      const kept = ptyReq ? takeKeptShellRequest(env) : undefined;
      if (kept && kept.reattach !== this.deps.kept.has(kept.id)) {
        reject?.(); // nothing to re-attach to (it ended), or a new shell under an id in use
        return;
      }
      const stream: ServerChannel = accept();
      // A shell without a PTY (`ssh host <script`, `virtualghost run <script`) reads its commands from
      // the channel, as sshd runs it: on a PTY it would echo them, and an EOF would never end it.
      if (!ptyReq) {
        execWithPipes(stream, undefined, env);
        return;
      }
      if (kept?.reattach) {
        ptyHandle = this.deps.kept.reattach(kept.id, stream, connectionGone);
        ptyHandle?.resize(ptyReq.cols, ptyReq.rows);
        return;
      }
      const spare = this.deps.spare?.take(ptyReq, env);
      if (kept) {
        const proc = spare?.proc ?? spawnOnPty(ptyReq, env);
        ptyHandle = this.deps.kept.adopt(kept.id, stream, proc, connectionGone, spare?.earlier);
      } else ptyHandle = spare ? attachPty(stream, spare.proc, spare.earlier) : runOnPty(stream, ptyReq, env);
    });
    session.on('exec', (accept, _reject, info) => {
      const stream: ServerChannel = accept();
      if (ptyReq) ptyHandle = runOnPty(stream, ptyReq, env, info.command);
      else execWithPipes(stream, info.command, env);
    });
    session.on('subsystem', (accept, reject, info) => {
      if (info.name !== 'sftp') {
        reject();
        return;
      }
      serveSftp(accept(), env);
    });
  }
}
