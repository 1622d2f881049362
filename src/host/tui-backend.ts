/**
 * Adapts a VM session to what the TUI needs: each tab is a new SSH channel with a PTY on the session's
 * one connection; the status line reads the session and the agent's once-a-second stats.
 */
import type { ClientChannel } from 'ssh2';
import type ssh2 from 'ssh2';
import { SPARE_ENV, SPARE_TERM } from '../shared/spare-shell.js';
import type { VmSession } from './session.js';
import type { ShellStream, StatusInfo, TuiBackend } from './tui/index.js';

/**
 * The TUI's emulator is an xterm: the guest gets xterm-256color whatever the user's outer TERM is, and
 * the same TERM and environment the guest's spare shell was started with, so the first tab can take it.
 */
const GUEST_TERM = SPARE_TERM;

function shellStream(channel: ClientChannel): ShellStream {
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    let status: { code: number | null; signal: string | null } = { code: null, signal: null };
    channel.on('exit', (code: number | null, signal?: string) => (status = { code, signal: signal ?? null }));
    channel.on('close', () => resolve(status));
  });
  return {
    write: (data) => channel.write(data),
    onData: (cb) => {
      channel.on('data', (d: Buffer) => cb(d));
      channel.stderr.on('data', (d: Buffer) => cb(d));
    },
    resize: (cols, rows) => channel.setWindow(rows, cols, 0, 0),
    close: () => channel.close(),
    exited,
    pause: () => channel.pause(),
    resume: () => channel.resume(),
  };
}

export function openPtyShell(ssh: ssh2.Client, size: { cols: number; rows: number }, term = GUEST_TERM): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    ssh.shell({ term, cols: size.cols, rows: size.rows, width: 0, height: 0 }, { env: { ...SPARE_ENV } }, (err, ch) => (err ? reject(err) : resolve(ch)));
  });
}

export function sessionTuiBackend(session: VmSession): TuiBackend {
  const ssh = session.ssh;
  if (!ssh) throw new Error('the session has no SSH connection');
  let connection: StatusInfo['connection'] = 'connected';
  void session.lost.then(() => (connection = 'lost'));
  return {
    openShell: async (size) => shellStream(await openPtyShell(ssh, size)),
    statusInfo: () => {
      const stats = session.control?.lastStats;
      return {
        name: session.name,
        backend: session.driver.backend,
        accel: session.driver.accel,
        vcpus: session.spec.vcpus,
        memoryMiB: session.spec.memoryMiB,
        readyMs: session.timings.readyMs,
        startedAt: session.startedAt,
        connection,
        ...(stats ? { guestCpuPercent: stats.cpuPercent, guestMemUsedBytes: stats.memUsedBytes, guestMemTotalBytes: stats.memTotalBytes } : {}),
      };
    },
    runningProcessCount: async () => await countInteractiveProcesses(ssh),
  };
}

/** Processes on a terminal other than the interactive shells themselves: what quitting would kill. */
export async function countInteractiveProcesses(ssh: ssh2.Client): Promise<number> {
  const out = await new Promise<string>((resolve) => {
    ssh.exec("ps -e -o tty=,comm= | awk '$1 != \"?\" && $2 != \"bash\" && $2 != \"ps\" && $2 != \"awk\"' | wc -l", (err, ch) => {
      if (err) return resolve('0');
      let text = '';
      ch.on('data', (d: Buffer) => (text += d.toString()));
      ch.on('close', () => resolve(text));
    });
  });
  return Number(out.trim()) || 0;
}
