/**
 * `run --raw`: the user's terminal in raw mode, bytes straight through to a guest PTY shell; the size at
 * start and on every resize is forwarded. The terminal is restored on every exit path.
 */
import type { ClientChannel } from 'ssh2';
import type ssh2 from 'ssh2';
import { statusFromExit } from './exec.js';

export async function rawShell(
  ssh: ssh2.Client,
  io: { stdin: NodeJS.ReadStream; stdout: NodeJS.WriteStream; stderr?: NodeJS.WriteStream },
): Promise<number> {
  const size = (): { cols: number; rows: number } => ({ cols: io.stdout.columns || 80, rows: io.stdout.rows || 24 });
  const term = process.env['TERM'] && process.env['TERM'] !== 'dumb' ? process.env['TERM'] : 'xterm-256color';
  // Input that is not a terminal (a script, /dev/null) gets a shell without a PTY, as `ssh host <file` does:
  // it reads the input as commands and ends at its end; a PTY would echo them and ignore the EOF.
  const pty = io.stdin.isTTY;
  const stream = await new Promise<ClientChannel>((resolve, reject) => {
    ssh.shell(
      pty ? { term, ...size(), height: 0, width: 0 } : false,
      { env: { LANG: process.env['LANG'] ?? 'C.UTF-8', COLORTERM: process.env['COLORTERM'] ?? '' } },
      (err, s) => (err ? reject(err) : resolve(s)),
    );
  });
  const wasRaw = io.stdin.isTTY ? io.stdin.isRaw : false;
  if (io.stdin.isTTY) io.stdin.setRawMode(true);
  const restore = (): void => {
    if (io.stdin.isTTY) io.stdin.setRawMode(wasRaw);
  };
  process.once('exit', restore);
  const onResize = (): void => {
    const { cols, rows } = size();
    stream.setWindow(rows, cols, 0, 0);
  };
  io.stdout.on('resize', onResize);
  io.stdin.pipe(stream);
  stream.pipe(io.stdout, { end: false });
  stream.stderr.pipe(pty ? io.stdout : (io.stderr ?? io.stdout), { end: false });
  try {
    return await new Promise<number>((resolve) => {
      let status = statusFromExit(undefined, undefined); // closed without an exit status: 255, as ssh says
      stream.on('exit', (code: number | null, signal?: string) => (status = statusFromExit(code, signal)));
      stream.on('close', () => resolve(status));
    });
  } finally {
    io.stdout.removeListener('resize', onResize);
    io.stdin.unpipe(stream);
    io.stdin.pause();
    restore();
    process.removeListener('exit', restore);
  }
}
