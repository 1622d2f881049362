/**
 * Published-port figures on a real (warm-restored) VM: TCP throughput each way through a published port
 * (host socket → PortPublisher → SSH direct-tcpip → agent → guest socat) next to the same bytes over an
 * SSH exec channel of the same connection (the path without the two TCP hops), and connection setup
 * through the port (connect → first byte from a guest server) next to opening the same direct-tcpip
 * channel straight from ssh2 (without the host listener).
 */
import { connect, createServer, type AddressInfo } from 'node:net';
import type ssh2 from 'ssh2';
import type { Duplex } from 'node:stream';
import type { ClientChannel } from 'ssh2';
import { PortPublisher } from '../ports/publisher.js';
import type { VmSession } from '../session.js';
import { throughputMBps } from './vm-figures.js';

const SINK = 7401;
const SOURCE = 7402;
const HELLO = 7403;

export interface PortFigures {
  down: number;
  up: number;
  sshDown: number;
  sshUp: number;
  setupMs: number[];
  channelSetupMs: number[];
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/** Starts guest servers for as long as the returned channel is open (closing it SIGHUPs them). */
function guestServers(ssh: ssh2.Client, bytes: number): Promise<ClientChannel> {
  const cmd = [
    `socat -u TCP-LISTEN:${SINK},bind=127.0.0.1,reuseaddr,fork OPEN:/dev/null &`,
    `socat -U TCP-LISTEN:${SOURCE},bind=127.0.0.1,reuseaddr,fork SYSTEM:'head -c ${bytes} /dev/zero' &`,
    `socat TCP-LISTEN:${HELLO},bind=127.0.0.1,reuseaddr,fork SYSTEM:'echo x' &`,
    `until ss -Hltn | grep -q :${HELLO}; do sleep 0.1; done; echo up; wait`,
  ].join('\n');
  return new Promise((resolve, reject) => {
    ssh.exec(cmd, (err, ch) => {
      if (err) return reject(err);
      ch.once('data', () => resolve(ch));
      ch.once('close', () => reject(new Error('the guest servers ended before they were up')));
    });
  });
}

async function receive(port: number): Promise<{ bytes: number; ms: number }> {
  const t0 = performance.now();
  return await new Promise((resolve, reject) => {
    let bytes = 0;
    const sock = connect({ host: '127.0.0.1', port });
    sock.on('data', (d: Buffer) => (bytes += d.length));
    sock.on('error', reject);
    sock.on('close', () => resolve({ bytes, ms: performance.now() - t0 }));
  });
}

async function send(port: number, bytes: number): Promise<number> {
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port });
    sock.on('error', reject);
    sock.on('close', () => resolve());
    sock.resume();
    const chunk = Buffer.alloc(256 * 1024);
    let sent = 0;
    const pump = (): void => {
      while (sent < bytes) {
        sent += chunk.length;
        if (!sock.write(chunk)) {
          sock.once('drain', pump);
          return;
        }
      }
      sock.end();
    };
    sock.once('connect', pump);
  });
  return performance.now() - t0;
}

/** Time from opening a stream to its first byte (the guest server writes one line at once). */
async function firstByteMs(open: () => Promise<Duplex>): Promise<number> {
  const t0 = performance.now();
  const stream = await open();
  await new Promise<void>((resolve, reject) => {
    stream.once('data', () => resolve());
    stream.once('error', reject);
  });
  const ms = performance.now() - t0;
  stream.destroy();
  return ms;
}

export async function portFigures(session: VmSession, megabytes: number, setups: number): Promise<PortFigures> {
  const ssh = session.ssh;
  if (!ssh) throw new Error('no ssh');
  const bytes = megabytes * 1024 * 1024;
  const servers = await guestServers(ssh, bytes);
  const [sinkPort, sourcePort, helloPort] = [await freePort(), await freePort(), await freePort()];
  const publisher = await PortPublisher.bind(
    [SINK, SOURCE, HELLO].map((guestPort, i) => ({
      hostIp: '127.0.0.1',
      hostPort: [sinkPort, sourcePort, helloPort][i] ?? 0,
      guestPort,
    })),
    () => undefined,
  );
  publisher.attach(ssh);
  try {
    const got = await receive(sourcePort);
    if (got.bytes !== bytes) throw new Error(`received ${got.bytes} of ${bytes} bytes through the published port`);
    const down = bytes / 1e6 / (got.ms / 1000);
    const up = bytes / 1e6 / ((await send(sinkPort, bytes)) / 1000);
    const ssh1 = await throughputMBps(ssh, megabytes);
    const setupMs: number[] = [];
    const channelSetupMs: number[] = [];
    for (let i = 0; i < setups; i++) {
      setupMs.push(await firstByteMs(() => Promise.resolve(connect({ host: '127.0.0.1', port: helloPort }))));
      channelSetupMs.push(
        await firstByteMs(
          () =>
            new Promise<ClientChannel>((resolve, reject) =>
              ssh.forwardOut('127.0.0.1', 0, '127.0.0.1', HELLO, (err, ch) => (err ? reject(err) : resolve(ch))),
            ),
        ),
      );
    }
    return { down, up, sshDown: ssh1.down, sshUp: ssh1.up, setupMs, channelSetupMs };
  } finally {
    await publisher.close();
    servers.close();
  }
}
