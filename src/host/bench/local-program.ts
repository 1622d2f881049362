/**
 * A local program on its own PTY (node-pty) as a TUI shell stream: the stand-in for a guest shell when
 * the terminal layer is measured (bench/local-terminal.ts) or tested (test/tui/local-shell.ts) without a VM.
 */
import pty from 'node-pty';
import type { ShellStream } from '../tui/index.js';

/** PROGRAM on its own PTY, as a TUI shell stream (what an SSH PTY channel is to the TUI). */
export function localProgram(
  command: readonly string[],
  size: { cols: number; rows: number },
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): ShellStream {
  const [file, ...args] = command;
  if (file === undefined) throw new Error('local-terminal: no program given after --');
  const p = pty.spawn(file, args, {
    cols: size.cols,
    rows: size.rows,
    // Bytes, not strings: the TUI decodes (a UTF-8 character split across reads must survive).
    encoding: null,
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    env: { ...process.env, TERM: 'xterm-256color', ...opts.env },
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    p.onExit(({ exitCode, signal }) => {
      resolve({ code: signal ? null : exitCode, signal: signal ? `SIG${signal}` : null });
    });
  });
  return {
    write: (data) => {
      p.write(typeof data === 'string' ? data : Buffer.from(data));
    },
    onData: (cb) =>
      p.onData((d) => {
        cb(typeof d === 'string' ? Buffer.from(d) : (d as Uint8Array));
      }),
    resize: (cols, rows) => {
      p.resize(cols, rows);
    },
    close: () => {
      p.kill('SIGHUP');
    },
    pause: () => {
      p.pause();
    },
    resume: () => {
      p.resume();
    },
    exited,
  };
}
