/**
 * SSH forwarding for one client connection, as OpenSSH's sshd does it: `direct-tcpip` (ssh -L, -W,
 * ProxyJump) and `direct-streamlocal@openssh.com` (ssh -L to a Unix socket) connect out from the guest;
 * `tcpip-forward` and `streamlocal-forward@openssh.com` (ssh -R) listen in the guest and open
 * `forwarded-*` channels back for each connection. It all happens inside the VM, for the user's own
 * authenticated session; nothing is opened on the host.
 *
 * A connection that cannot be made fails its channel with "connect failed" (the connection goes on).
 * Every socket is torn down with its channel, and every listener and socket with the connection.
 */
import { rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Connection, ServerChannel, SocketBindInfo, TcpipBindInfo } from 'ssh2';
import { joinChannel } from './forward-join.js';

/** How long an outgoing connect may take before its channel is refused. */
const CONNECT_TIMEOUT_MS = 10_000;

export function serveForwarding(client: Connection, log: (msg: string) => void): void {
  const live = new Set<() => void>();
  const listeners = new Map<string, Server>();
  let ended = false;

  const track = (channel: ServerChannel, socket: Socket): void => {
    const teardown = joinChannel(channel, socket);
    live.add(teardown);
    socket.once('close', () => live.delete(teardown));
  };

  /** Connects out, then accepts the channel; a failure rejects it ("connect failed"). */
  const connectOut = (what: string, accept: () => ServerChannel, reject: () => void, socket: Socket): void => {
    let connected = false;
    const drop = (): void => {
      socket.destroy();
    };
    live.add(drop);
    socket.setTimeout(CONNECT_TIMEOUT_MS, () =>
      socket.destroy(new Error(`no answer within ${CONNECT_TIMEOUT_MS / 1000} s`)),
    );
    socket.once('close', () => live.delete(drop));
    socket.once('connect', () => {
      connected = true;
      socket.setTimeout(0);
      live.delete(drop);
      if (ended) socket.destroy();
      else track(accept(), socket);
    });
    socket.once('error', (err) => {
      if (connected) return; // joinChannel's
      log(`forward to ${what} refused: ${err.message}`);
      reject();
    });
  };

  client.on('tcpip', (accept, reject, info) => {
    const what = `${info.destIP}:${info.destPort}`;
    connectOut(what, accept, reject, connect({ host: info.destIP, port: info.destPort, allowHalfOpen: true }));
  });
  client.on('openssh.streamlocal', (accept, reject, info) => {
    connectOut(info.socketPath, accept, reject, connect({ path: info.socketPath, allowHalfOpen: true }));
  });

  /** Opens a listener for -R; `openBack` opens the forwarded channel for each connection it accepts. */
  const listen = (
    key: string,
    bind: { host?: string; port: number } | { path: string },
    openBack: (socket: Socket, cb: (err: Error | undefined, ch: ServerChannel) => void) => void,
    done: (port?: number) => void,
    fail: () => void,
  ): void => {
    if (listeners.has(key) || ended) {
      fail();
      return;
    }
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => {
      socket.on('error', () => undefined); // reported through 'close'
      openBack(socket, (err, channel) => {
        if (err || ended || socket.destroyed) {
          if (err) log(`forwarded connection on ${key} refused by the client: ${err.message}`);
          channel?.destroy();
          socket.destroy();
          return;
        }
        track(channel, socket);
        socket.resume();
      });
    });
    let listening = false;
    server.on('error', (err) => {
      // An error after listening (rare: accept failures) is logged; the listener stays until cancelled.
      log(`${listening ? 'listener on' : 'cannot listen on'} ${key}: ${err.message}`);
      if (listening) return;
      listeners.delete(key);
      fail();
    });
    listeners.set(key, server);
    server.listen(bind, () => {
      listening = true;
      const addr = server.address();
      done(typeof addr === 'object' && addr !== null ? addr.port : undefined);
    });
  };

  const unlisten = (key: string): boolean => {
    const server = listeners.get(key);
    if (!server) return false;
    listeners.delete(key);
    server.close();
    if (key.startsWith('/')) rmSync(key, { force: true });
    return true;
  };

  // One listener for all four requests (the typings overload 'request' per request name).
  const onRequest = (
    accept: ((port?: number) => void) | undefined,
    reject: (() => void) | undefined,
    name: string,
    info: TcpipBindInfo | SocketBindInfo,
  ): void => {
    const ok = (port?: number): void => accept?.(port);
    const no = (): void => reject?.();
    if ('bindPort' in info) {
      if (name !== 'tcpip-forward' && name !== 'cancel-tcpip-forward') return no();
      const { bindAddr, bindPort } = info;
      if (name === 'cancel-tcpip-forward') {
        (unlisten(tcpKey(bindAddr, bindPort)) ? ok : no)();
        return;
      }
      const host = listenHost(bindAddr);
      let key = tcpKey(bindAddr, bindPort);
      listen(
        key,
        host === undefined ? { port: bindPort } : { host, port: bindPort },
        (socket, cb) =>
          client.forwardOut(bindAddr, boundPort(socket), socket.remoteAddress ?? '', socket.remotePort ?? 0, cb),
        (port) => {
          // Port 0: the guest chose one; the client names it in its cancel, so the key follows it.
          if (bindPort === 0 && port !== undefined) {
            const server = listeners.get(key);
            listeners.delete(key);
            key = tcpKey(bindAddr, port);
            if (server) listeners.set(key, server);
          }
          ok(port);
        },
        no,
      );
      return;
    }
    const { socketPath } = info;
    if (name === 'cancel-streamlocal-forward@openssh.com') {
      (unlisten(socketPath) ? ok : no)();
      return;
    }
    if (!socketPath.startsWith('/')) {
      log(`streamlocal forward refused: ${JSON.stringify(socketPath)} is not an absolute path`);
      no();
      return;
    }
    listen(
      socketPath,
      { path: socketPath },
      (_socket, cb) => client.openssh_forwardOutStreamLocal(socketPath, cb),
      () => ok(),
      no,
    );
  };
  client.on('request', onRequest);

  client.once('close', () => {
    ended = true;
    for (const key of [...listeners.keys()]) unlisten(key);
    for (const teardown of [...live]) teardown();
    live.clear();
  });
}

function tcpKey(bindAddr: string, port: number): string {
  return `tcp ${bindAddr} ${port}`;
}

/**
 * The address a -R listener binds: what the client named, as sshd with `GatewayPorts clientspecified`
 * (it is the user's own VM). OpenSSH sends "localhost" unless told otherwise; "" and "*" mean every
 * interface (undefined: Node's own any-address, IPv6 when the guest has it).
 */
function listenHost(bindAddr: string): string | undefined {
  if (bindAddr === '' || bindAddr === '*') return undefined;
  if (bindAddr === 'localhost') return '127.0.0.1';
  return bindAddr;
}

function boundPort(socket: Socket): number {
  return socket.localPort ?? 0;
}
