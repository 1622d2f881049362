/**
 * Adapts a VM session to what the TUI needs: each tab is a new SSH channel with a PTY on the session's
 * one connection; the status line reads the session and the agent's once-a-second stats.
 */
import type { ClientChannel } from 'ssh2';
import type ssh2 from 'ssh2';
import { SPARE_ENV, SPARE_TERM } from '../shared/spare-shell.js';
import type { VmSession } from './session.js';
import { shortPort, type PublishedPort } from './ports/spec.js';
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

export function openPtyShell(
  ssh: ssh2.Client,
  size: { cols: number; rows: number },
  term = GUEST_TERM,
  extraEnv: Readonly<Record<string, string>> = {},
): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    const env = { ...SPARE_ENV, ...extraEnv };
    ssh.shell({ term, cols: size.cols, rows: size.rows, width: 0, height: 0 }, { env }, (err, ch) =>
      err ? reject(err) : resolve(ch),
    );
  });
}

export function sessionTuiBackend(session: VmSession, ports?: () => readonly PublishedPort[]): TuiBackend {
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
        ...(ports ? { ports: ports().map(shortPort) } : {}),
        ...(stats
          ? {
              guestCpuPercent: stats.cpuPercent,
              guestMemUsedBytes: stats.memUsedBytes,
              guestMemTotalBytes: stats.memTotalBytes,
            }
          : {}),
      };
    },
    runningProcessCount: async () => await countInteractiveProcesses(ssh),
  };
}

/**
 * Processes on a terminal other than the interactive shells themselves: what quitting would kill. The guest
 * lists them and the host counts, so a failure (no `ps`, an error status, a dropped channel) is an error
 * here, never a count of 0.
 */
export async function countInteractiveProcesses(ssh: ssh2.Client): Promise<number> {
  const { out, status } = await new Promise<{ out: string; status: number | undefined }>((resolve, reject) => {
    ssh.exec('ps -e -o tty=,comm=', (err, ch) => {
      if (err) return reject(new Error(`cannot run ps in the guest: ${err.message}`));
      let text = '';
      let code: number | undefined;
      ch.on('data', (d: Buffer) => {
        if (text.length < MAX_PS_OUTPUT) text += d.toString();
      });
      ch.stderr.resume();
      ch.on('exit', (c: number | null) => (code = c ?? undefined));
      ch.on('close', () => resolve({ out: text, status: code }));
    });
  });
  if (status !== 0)
    throw new Error(
      status === undefined
        ? 'ps in the guest ended without an exit status'
        : `ps in the guest exited with status ${status}`,
    );
  return out.split('\n').filter((line) => {
    const [tty, comm] = line.trim().split(/\s+/, 2);
    return tty !== undefined && tty !== '' && tty !== '?' && comm !== 'bash' && comm !== 'ps';
  }).length;
}

/** A guest's process list is a few KB; more than this is not a list we count. */
const MAX_PS_OUTPUT = 1 << 20;
