/** Figures measured on a real VM session: readiness, shell prompt, exec round trip, throughput, RTT, RSS. */
import { readFileSync } from 'node:fs';
import type ssh2 from 'ssh2';
import type { ClientChannel } from 'ssh2';
import type { VmSession } from '../session.js';
import { openPtyShell } from '../tui-backend.js';

export function rssBytes(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const kb = /^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return Number(kb) * 1024;
  } catch {
    return Number.NaN;
  }
}

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
