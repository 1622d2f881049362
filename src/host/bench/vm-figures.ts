/** Figures measured on a real VM session: readiness, shell prompt, exec round trip, throughput, RTT, RSS. */
import { readFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import type ssh2 from 'ssh2';
import type { ClientChannel } from 'ssh2';
import type { VmSession } from '../session.js';
import { openPtyShell } from '../session-tui-backend.js';

/** A `Name:   N kB` line of a /proc file, in bytes; NaN if the process or the line is gone. */
function procKbField(pid: number | undefined, file: 'status' | 'smaps_rollup', name: string): number {
  if (pid === undefined) return Number.NaN;
  try {
    const kb = new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(readFileSync(`/proc/${pid}/${file}`, 'utf8'))?.[1];
    return Number(kb) * 1024;
  } catch {
    return Number.NaN;
  }
}

export const rssBytes = (pid: number | undefined): number => procKbField(pid, 'status', 'VmRSS');

/** Proportional set size: shared pages (a snapshot's RAM file mapped by several clones) divided among their users. */
export const pssBytes = (pid: number | undefined): number => procKbField(pid, 'smaps_rollup', 'Pss');

function execChannel(ssh: ssh2.Client, cmd: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) => ssh.exec(cmd, (err, ch) => (err ? reject(err) : resolve(ch))));
}

export async function execRoundTripMs(ssh: ssh2.Client): Promise<number> {
  const t0 = performance.now();
  const ch = await execChannel(ssh, 'true');
  await new Promise<void>((resolve) => {
    ch.resume();
    ch.on('close', () => resolve());
  });
  return performance.now() - t0;
}

/** Spawn-relative time until a PTY shell prints its prompt. */
export async function promptMs(session: VmSession): Promise<number> {
  const ssh = session.ssh as ssh2.Client;
  const ch = await openPtyShell(ssh, { cols: 80, rows: 24 });
  await new Promise<void>((resolve) => {
    let text = '';
    ch.on('data', (d: Buffer) => {
      text += d.toString();
      if (text.includes('root@ghost')) resolve();
    });
  });
  const at = Date.now() - session.startedAt;
  ch.close();
  return at;
}

/** MB/s guest → host (`head -c` of zeros) and host → guest (into `cat > /dev/null`) over one SSH channel. */
export async function throughputMBps(ssh: ssh2.Client, megabytes: number): Promise<{ down: number; up: number }> {
  const bytes = megabytes * 1024 * 1024;
  let t0 = performance.now();
  const down = await execChannel(ssh, `head -c ${bytes} /dev/zero`);
  let got = 0;
  await new Promise<void>((resolve) => {
    down.on('data', (d: Buffer) => (got += d.length));
    down.on('close', () => resolve());
  });
  const downRate = got / 1e6 / ((performance.now() - t0) / 1000);
  const up = await execChannel(ssh, 'cat > /dev/null');
  up.resume(); // an unread readable side never ends, and then the channel never closes
  t0 = performance.now();
  const chunk = Buffer.alloc(256 * 1024);
  for (let sent = 0; sent < bytes; sent += chunk.length) {
    if (!up.write(chunk)) await new Promise((r) => up.once('drain', r));
  }
  up.end();
  await new Promise<void>((resolve) => up.on('close', () => resolve()));
  const upRate = bytes / 1e6 / ((performance.now() - t0) / 1000);
  return { down: downRate, up: upRate };
}

/** Round trips of one byte through `cat` on an exec channel (the SSH + channel + agent path). */
export async function echoRttMs(ssh: ssh2.Client, samples: number): Promise<number[]> {
  const ch = await execChannel(ssh, 'cat');
  const out: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      ch.once('data', () => resolve());
      ch.write('x');
    });
    out.push(performance.now() - t0);
  }
  ch.end();
  return out;
}

/**
 * The guest channel alone (virtio-serial + QEMU chardev + the guest bridge), without SSH: the agent's
 * control socket is swapped for `ghostly-helper bench-sink|bench-source` (a Unix-socket peer that reads or
 * writes N bytes 256 KiB at a time, where the agent would listen), and a fresh host connection to the
 * control stream writes or reads them: the same path as an SSH stream (host socket → QEMU → port →
 * bridge → Unix socket → agent) up to the agent. A peer made of socat + head (a pipe and 8 KiB reads more
 * per byte) measured itself rather than the channel: with the same bridge it gave ~40 MB/s guest → host
 * where this peer gives ~80. Runs `runs` times each way; ends the session's own control stream (the bench
 * closes the session afterwards).
 */
export async function rawChannelMBps(
  session: VmSession,
  megabytes: number,
  runs: number,
): Promise<{ down: number[]; up: number[] }> {
  const ssh = session.ssh as ssh2.Client;
  const bytes = megabytes * 1024 * 1024;
  const sock = '/run/ghostly/control.sock';
  const run = async (cmd: string): Promise<void> => {
    const ch = await execChannel(ssh, cmd);
    await new Promise<void>((resolve) => {
      ch.resume();
      ch.stderr.resume();
      ch.on('close', () => resolve());
    });
  };
  session.control?.close();
  const measure = async (
    peer: 'bench-sink' | 'bench-source',
    hostSide: (s: Duplex) => Promise<void>,
  ): Promise<number> => {
    await run(
      `rm -f ${sock}; (setsid /opt/ghostly/ghostly-helper ${peer} ${sock} ${bytes} </dev/null >/dev/console 2>&1 &) ; for i in $(seq 100); do [ -S ${sock} ] && break; sleep 0.05; done`,
    );
    const stream = await session.driver
      .channel('control')
      .connect({ signal: AbortSignal.timeout(60_000), timeoutMs: 30_000 });
    const t0 = performance.now();
    await hostSide(stream);
    const secs = (performance.now() - t0) / 1000;
    stream.destroy();
    return bytes / 1e6 / secs;
  };
  const down: number[] = [],
    up: number[] = [];
  for (let i = 0; i < runs; i++) {
    down.push(
      await measure(
        'bench-source',
        (s) =>
          new Promise<void>((resolve) => {
            let got = 0;
            s.on('data', (d: Buffer) => {
              got += d.length;
              if (got >= bytes) resolve();
            });
          }),
      ),
    );
    up.push(
      await measure('bench-sink', async (s) => {
        const done = new Promise<void>((resolve) =>
          s.on('data', (d: Buffer) => d.toString().includes('done') && resolve()),
        );
        const chunk = Buffer.alloc(256 * 1024);
        for (let sent = 0; sent < bytes; sent += chunk.length) {
          if (!s.write(chunk)) await new Promise((r) => s.once('drain', r));
        }
        await done;
      }),
    );
  }
  return { down, up };
}
