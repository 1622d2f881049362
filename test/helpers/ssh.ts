/** Small promise wrappers over an ssh2 client for tests: exec with collected output, SFTP. */
import type ssh2 from 'ssh2';
import type { SFTPWrapper } from 'ssh2';

export interface ExecResult {
  code: number | null;
  signal: string | undefined;
  stdout: Buffer;
  stderr: string;
}

/** Runs `command` without a PTY; `stdin` (if given) is written and then the channel's input is ended. */
export function sshExec(ssh: ssh2.Client, command: string, stdin?: Buffer | string): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    ssh.exec(command, (err, stream) => {
      if (err) {
        reject(err);
        return;
      }
      const out: Buffer[] = [];
      let errText = '';
      let code: number | null = null;
      let signal: string | undefined;
      stream.on('data', (d: Buffer) => out.push(d));
      stream.stderr.on('data', (d: Buffer) => (errText += d.toString()));
      stream.on('exit', (c: number | null, s?: string) => {
        code = c;
        signal = s;
      });
      stream.on('close', () => resolve({ code, signal, stdout: Buffer.concat(out), stderr: errText }));
      stream.on('error', reject);
      if (stdin !== undefined) stream.end(stdin);
      else stream.end();
    });
  });
}

export function openSftp(ssh: ssh2.Client): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => ssh.sftp((err, sftp) => (err ? reject(err) : resolve(sftp))));
}

/** Promisifies one callback-style SFTP method call. */
export function sftpCall<T = void>(fn: (cb: (err: Error | null | undefined, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value as T))));
}
