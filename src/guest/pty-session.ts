/** A shell (or `ssh -t` command) on a real PTY via node-pty, with window-change and flow control. */
import { constants } from 'node:os';
import pty from 'node-pty';
import type { IPty } from 'node-pty';
import type { ServerChannel } from 'ssh2';
import { imageProfile, spawnIdentity, startDir } from './image-profile.js';
import { loginEnv } from './login-env.js';

export interface PtyRequest {
  term: string;
  cols: number;
  rows: number;
}

export interface PtyHandle {
  resize(cols: number, rows: number): void;
}

/** Starts a login shell (or `SHELL -c command`) on a new PTY. */
export function spawnOnPty(req: PtyRequest, env: Record<string, string>, command?: string): IPty {
  const args = command === undefined ? ['-l'] : ['-c', command];
  return pty.spawn(imageProfile().shell, args, {
    name: req.term,
    cols: Math.max(1, req.cols),
    rows: Math.max(1, req.rows),
    cwd: startDir(),
    ...spawnIdentity(),
    env: loginEnv(env, req.term),
    encoding: null, // raw bytes: a PTY carries binary data too, never decode it here
  });
}

export function runOnPty(
  stream: ServerChannel,
  req: PtyRequest,
  env: Record<string, string>,
  command?: string,
): PtyHandle {
  return attachPty(stream, spawnOnPty(req, env, command));
}

/** Joins a running PTY process to an SSH channel; `earlier` is output it made before (replayed first). */
export function attachPty(stream: ServerChannel, proc: IPty, earlier?: Buffer): PtyHandle {
  if (earlier && earlier.length > 0) stream.write(earlier);
  // With encoding: null node-pty hands out Buffers, though its typings still say string.
  proc.onData((data: string | Buffer) => {
    if (!stream.write(data)) {
      proc.pause();
      stream.once('drain', () => proc.resume());
    }
  });
  stream.on('data', (data: Buffer) => proc.write(data));
  proc.onExit(({ exitCode, signal }) => {
    exitOnStream(stream, exitCode, signal);
    stream.end();
  });
  stream.on('close', () => {
    try {
      proc.kill('SIGHUP');
    } catch {
      /* already gone */
    }
  });
  return { resize: (cols, rows) => proc.resize(Math.max(1, cols), Math.max(1, rows)) };
}

/** Sends a PTY process's exit status (node-pty's onExit) as SSH's exit-status or exit-signal. */
export function exitOnStream(stream: ServerChannel, exitCode: number, signal?: number): void {
  if (signal) stream.exit(signalName(signal), false, '');
  else stream.exit(exitCode);
}

function signalName(num: number): string {
  const entry = Object.entries(constants.signals).find(([, n]) => n === num);
  return entry ? entry[0].replace(/^SIG/, '') : 'KILL';
}
