/**
 * `exec` without a PTY: plain pipes, so stdout and stderr stay separate and binary-exact, and the exact
 * exit status or signal goes back. (node-pty loses the tail of output when a command exits quickly.)
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { ServerChannel } from 'ssh2';
import { imageProfile, spawnIdentity, startDir } from './image-profile.js';
import { loginEnv } from './login-env.js';

/** Without a command: a login shell that reads its commands from the channel (an SSH shell with no PTY). */
export function execWithPipes(stream: ServerChannel, command: string | undefined, env: Record<string, string>): void {
  const child = spawn(imageProfile().shell, command === undefined ? ['-l'] : ['-c', command], {
    cwd: startDir(),
    ...spawnIdentity(),
    env: loginEnv(env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  stream.pipe(child.stdin);
  child.stdout.pipe(stream, { end: false });
  child.stderr.pipe(stream.stderr, { end: false });
  child.stdin.on('error', () => {}); // the command may exit without reading its input
  stream.on('signal', (sig: string) => {
    if (sig in constants.signals) child.kill(`SIG${sig}` as NodeJS.Signals);
  });
  stream.on('close', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGHUP');
  });
  child.on('error', (err) => {
    stream.stderr.write(`ghostly-agent: cannot run command: ${err.message}\n`);
    stream.exit(127);
    stream.end();
  });
  // 'close' (not 'exit') fires after stdout/stderr are drained: the status must follow the last byte.
  child.on('close', (code, signal) => {
    if (signal !== null) stream.exit(signal.replace(/^SIG/, ''), false, '');
    else stream.exit(code ?? 255);
    stream.end();
  });
}
