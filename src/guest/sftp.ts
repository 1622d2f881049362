/**
 * The SFTP subsystem is OpenSSH's own sftp-server (Debian's openssh-sftp-server in the image) on the
 * channel's stdio: every SFTP client (ssh2, OpenSSH sftp/scp, rsync-free tools, VS Code) gets the
 * real, complete implementation instead of a partial re-implementation.
 */
import { spawn } from 'node:child_process';
import type { ServerChannel } from 'ssh2';
import { existsSync } from 'node:fs';
import { imageProfile, spawnIdentity } from './image-profile.js';
import { loginEnv } from './login-env.js';

export function serveSftp(stream: ServerChannel, env: Record<string, string>): void {
  // As sshd does: in the user's home. In an OCI image sftp-server runs through the injected loader.
  const { sftpServer, home } = imageProfile();
  const [bin = '', ...pre] = sftpServer;
  const child = spawn(bin, [...pre, '-e'], {
    cwd: existsSync(home) ? home : '/',
    env: loginEnv(env),
    stdio: ['pipe', 'pipe', 'pipe'],
    ...spawnIdentity(),
  });
  stream.pipe(child.stdin);
  // end: false — ending the channel with sftp-server's stdout would close it before the exit status is
  // sent below, and OpenSSH's scp (SFTP mode) treats a missing exit status as failure.
  child.stdout.pipe(stream, { end: false });
  child.stderr.on('data', () => {}); // -e logs to stderr; nobody reads it, keep it from blocking
  child.stdin.on('error', () => {});
  stream.on('close', () => child.kill('SIGTERM'));
  child.on('error', (err) => {
    stream.stderr.write(`ghostly-agent: sftp-server unavailable: ${err.message}\n`);
    stream.exit(127);
    stream.end();
  });
  child.on('close', (code) => {
    stream.exit(code ?? 255);
    stream.end();
  });
}
