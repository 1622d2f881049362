/** A shell (or `ssh -t` command) on a real PTY via node-pty, with window-change and flow control. */
import { constants } from 'node:os';
import pty from 'node-pty';
import type { ServerChannel } from 'ssh2';
import { loginEnv } from './login-env.js';

export interface PtyRequest {
  term: string;
  cols: number;
  rows: number;
}

export interface PtyHandle {
  resize(cols: number, rows: number): void;
}

export function runOnPty(stream: ServerChannel, req: PtyRequest, env: Record<string, string>, command?: string): PtyHandle {
  const args = command === undefined ? ['-l'] : ['-c', command];
  const proc = pty.spawn('/bin/bash', args, {
    name: req.term,
    cols: Math.max(1, req.cols),
    rows: Math.max(1, req.rows),
    cwd: '/root',
    env: loginEnv(env, req.term),
    encoding: null, // raw bytes: a PTY carries binary data too, never decode it here
  });
  // With encoding: null node-pty hands out Buffers, though its typings still say string.
  proc.onData((data: string | Buffer) => {
    if (!stream.write(data)) {
      proc.pause();
      stream.once('drain', () => proc.resume());
    }
  });
  stream.on('data', (data: Buffer) => proc.write(data));
  proc.onExit(({ exitCode, signal }) => {
    if (signal) stream.exit(signalName(signal), false, '');
    else stream.exit(exitCode);
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

function signalName(num: number): string {
  const entry = Object.entries(constants.signals).find(([, n]) => n === num);
  return entry ? entry[0].replace(/^SIG/, '') : 'KILL';
}
