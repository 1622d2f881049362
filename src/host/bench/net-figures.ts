/**
 * Guest-network figures (`--net-host`, on a warm-restored VM): TCP throughput through the NAT each way,
 * the guest against a server on the host's 127.0.0.1 reached as host.virtualghost.internal, next to the
 * bare guest channel (virtio-serial, no SSH) of the same VM. Guest → host is timed on the host (first
 * byte → the guest's close); host → guest in the guest (connect → the last byte read), so neither side's
 * socket buffers count as delivered.
 */
import { createServer, type AddressInfo, type Server } from 'node:net';
import type ssh2 from 'ssh2';
import { GUEST_NET } from '../../shared/guest-net.js';
import type { VmSession } from '../session.js';
import { rawChannelMBps } from './vm-figures.js';

/** MB/s; `down` is guest → host and `up` host → guest, as in vm-figures.ts. */
export interface NatFigures {
  down: number;
  up: number;
  channelDown: number;
  channelUp: number;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function guestRun(ssh: ssh2.Client, cmd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    ssh.exec(cmd, (err, ch) => {
      if (err) return reject(err);
      let out = '';
      ch.on('data', (d: Buffer) => (out += d.toString()));
      ch.stderr.on('data', (d: Buffer) => (out += d.toString()));
      ch.on('close', (code: number | null) =>
        code === 0 ? resolve(out) : reject(new Error(`guest command failed (${code}): ${cmd}: ${out.slice(-300)}`)),
      );
    });
  });
}

/** Needs a session started with `--net-host`. Ends the session's control stream (rawChannelMBps). */
export async function natFigures(session: VmSession, megabytes: number): Promise<NatFigures> {
  const ssh = session.ssh as ssh2.Client;
  const bytes = megabytes * 1024 * 1024;
  const host = GUEST_NET.hostName;

  // Guest → host: a sink that times from its first byte to the guest's close.
  let sinkDone!: (mbps: number) => void;
  const sunk = new Promise<number>((r) => (sinkDone = r));
  const sink = createServer((sock) => {
    let got = 0;
    let t0 = 0;
    sock.on('data', (d: Buffer) => {
      if (got === 0) t0 = performance.now();
      got += d.length;
    });
    sock.on('end', () => {
      sinkDone(got / 1e6 / ((performance.now() - t0) / 1000));
      sock.end();
    });
    sock.on('error', () => undefined);
  });
  // Host → guest: a source that writes the bytes and closes.
  const source = createServer((sock) => {
    sock.on('error', () => undefined);
    sock.end(Buffer.alloc(bytes));
  });
  try {
    const [sinkPort, sourcePort] = [await listen(sink), await listen(source)];
    await guestRun(ssh, `head -c ${bytes} /dev/zero > /dev/tcp/${host}/${sinkPort}`);
    const down = await sunk;
    const out = await guestRun(
      ssh,
      `s=$(date +%s%N); n=$(cat < /dev/tcp/${host}/${sourcePort} | wc -c); echo "n=$n ns=$(( $(date +%s%N) - s ))"`,
    );
    const m = /n=(\d+) ns=(\d+)/.exec(out);
    if (!m || Number(m[1]) !== bytes) throw new Error(`host → guest through the NAT: got ${out.trim()}`);
    const up = bytes / 1e6 / (Number(m[2]) / 1e9);
    const channel = await rawChannelMBps(session, megabytes, 1);
    return { down, up, channelDown: channel.down[0] ?? Number.NaN, channelUp: channel.up[0] ?? Number.NaN };
  } finally {
    sink.close();
    source.close();
  }
}
