/**
 * Published ports, carried over SSH: each host listener's connections become `direct-tcpip` channels on
 * the SSH connection of the process that holds the VM (a throw-away run's command, or a named VM's
 * supervisor), and the agent connects them to 127.0.0.1:GUEST_PORT in the guest. No guest network is
 * needed, and QEMU and Firecracker work alike.
 *
 * Listeners are bound before the VM boots (all of them, or none: a port in use is an error before any
 * VM exists); connections that arrive before SSH is up wait, paused, until `attach`. A guest with nothing
 * listening gets the host connection closed at once and a line in the log.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { ClientChannel } from 'ssh2';
import type ssh2 from 'ssh2';
import { escapeControl } from '../../shared/escape-control.js';
import { errorMessage } from '../../shared/errors.js';
import { ConfigInvalidError } from '../config/errors.js';
import { formatPort, hostSide, sameHostSide, type PublishedPort } from './spec.js';

/** How long bytes already received may take to reach a reader after the other side has closed. */
const DRAIN_AFTER_CLOSE_MS = 30_000;

interface Listener {
  port: PublishedPort;
  server: Server;
}

export class PortPublisher {
  private readonly listeners: Listener[] = [];
  private readonly open = new Set<Socket>();
  private readonly waiting: Array<{ socket: Socket; port: PublishedPort }> = [];
  private ssh: ssh2.Client | undefined;
  private closed = false;

  /** Binds every port or none: the first that cannot be bound closes the others and is the error. */
  static async bind(ports: readonly PublishedPort[], log: (line: string) => void): Promise<PortPublisher> {
    const publisher = new PortPublisher(log);
    try {
      for (const p of ports) await publisher.add(p);
    } catch (err) {
      await publisher.close();
      throw err;
    }
    return publisher;
  }

  constructor(private log: (line: string) => void) {}

  /** Where the "nothing listening" lines go from now on (a throw-away run knows its log once the VM exists). */
  setLog(log: (line: string) => void): void {
    this.log = log;
  }

  list(): PublishedPort[] {
    return this.listeners.map((l) => ({ ...l.port }));
  }

  /** Starts forwarding over `ssh`, including the connections that arrived while the VM was starting. */
  attach(ssh: ssh2.Client): void {
    this.ssh = ssh;
    for (const { socket, port } of this.waiting.splice(0)) this.forward(socket, port);
  }

  async add(port: PublishedPort): Promise<void> {
    if (this.closed) throw new Error('the published ports are closed');
    if (this.listeners.some((l) => sameHostSide(l.port, port)))
      throw new ConfigInvalidError(`${hostSide(port)} is already published`);
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => this.accept(socket, port));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        const why =
          err.code === 'EADDRINUSE'
            ? 'is in use by another program'
            : err.code === 'EADDRNOTAVAIL'
              ? 'is not an address of this machine'
              : err.code === 'EACCES'
                ? 'needs privileges to bind (ports below 1024 are for root)'
                : errorMessage(err);
        reject(
          new ConfigInvalidError(`cannot publish ${formatPort(port)}: host port ${hostSide(port)} ${why}`, {
            cause: err,
          }),
        );
      });
      server.listen({ host: port.hostIp, port: port.hostPort, exclusive: true }, () => resolve());
    });
    server.on('error', (err) => this.log(`published port ${hostSide(port)}: ${errorMessage(err)}`));
    this.listeners.push({ port, server });
  }

  /** Stops publishing HOST_PORT (on every address it is bound to); existing connections go on. */
  async remove(hostPort: number): Promise<PublishedPort[]> {
    const gone = this.listeners.filter((l) => l.port.hostPort === hostPort);
    if (gone.length === 0)
      throw new ConfigInvalidError(
        `host port ${hostPort} is not published (published: ${this.listeners.map((l) => formatPort(l.port)).join(', ') || 'none'})`,
      );
    for (const l of gone) this.listeners.splice(this.listeners.indexOf(l), 1);
    await Promise.all(gone.map((l) => new Promise<void>((r) => l.server.close(() => r()))));
    return gone.map((l) => l.port);
  }

  /** Closes every listener and every forwarded connection. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    const servers = this.listeners.splice(0).map((l) => l.server);
    for (const { socket } of this.waiting.splice(0)) socket.destroy();
    for (const s of this.open) s.destroy();
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }

  private accept(socket: Socket, port: PublishedPort): void {
    socket.on('error', () => undefined); // a client going away is routine; 'close' tears down
    this.open.add(socket);
    socket.once('close', () => this.open.delete(socket));
    if (this.ssh) this.forward(socket, port);
    else this.waiting.push({ socket, port });
  }

  private forward(socket: Socket, port: PublishedPort): void {
    const ssh = this.ssh;
    if (!ssh || socket.destroyed) return;
    const from = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
    ssh.forwardOut(socket.remoteAddress ?? '', socket.remotePort ?? 0, '127.0.0.1', port.guestPort, (err, channel) => {
      if (err) {
        socket.destroy();
        // The reason comes from the guest: escaped before it reaches a terminal or log.
        this.log(
          `published port ${formatPort(port)}: connection from ${from} closed: the guest did not accept it on port ${port.guestPort} (${escapeControl(err.message)}); is a server listening on 127.0.0.1:${port.guestPort} in the guest?`,
        );
        return;
      }
      if (socket.destroyed || this.closed) {
        channel.close();
        return;
      }
      join(socket, channel);
    });
  }
}

/**
 * Both ways with pipe() (backpressure: a slow side stops the other being read, and the SSH window does
 * the rest) and half-close (an EOF passes as an EOF); torn down together.
 */
function join(socket: Socket, channel: ClientChannel): void {
  let done = false;
  const teardown = (): void => {
    if (done) return;
    done = true;
    socket.destroy();
    channel.close();
  };
  channel.on('error', teardown);
  socket.once('close', (hadError) => {
    if (hadError) teardown();
    // Finished both ways: once our EOF is out after the last queued byte, close the channel ourselves
    // rather than wait for a guest that might never close its side.
    else channel.end(() => channel.close());
  });
  // The guest side closed: deliver what it sent, then go (bounded, if the host reader never reads).
  channel.once('close', () => {
    if (done) return;
    const timer = setTimeout(teardown, DRAIN_AFTER_CLOSE_MS).unref();
    socket.end(() => {
      clearTimeout(timer);
      teardown();
    });
  });
  socket.pipe(channel);
  channel.pipe(socket);
  socket.resume();
}
