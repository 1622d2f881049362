/**
 * `virtualghost exec [--tty] -- CMD...`: runs one command in a fresh throw-away VM. stdout and stderr
 * stay separate and binary-exact; stdin is piped through when it is not a terminal (or with -i); the
 * exit status is the command's own (128+N if signal N killed it).
 */
import { constants } from 'node:os';
import type { ClientChannel } from 'ssh2';
import type ssh2 from 'ssh2';
import { shellQuote } from './shell-quote.js';
import { cliContext } from './context.js';
import { withSession } from './with-session.js';
import type { ConfigKey } from '../config/schema.js';
import { SessionVmLostError } from '../session-errors.js';

export interface ExecOptions {
  interactive?: boolean;
  tty?: boolean;
  cold?: boolean;
  flags: Partial<Record<ConfigKey, unknown>>;
}

export function statusFromExit(code: number | null | undefined, signalName: string | undefined): number {
  if (signalName) return 128 + (constants.signals[(signalName.startsWith('SIG') ? signalName : `SIG${signalName}`) as NodeJS.Signals] ?? 0);
  return code ?? 255;
}

export async function runCommand(ssh: ssh2.Client, command: string, io: { stdin?: NodeJS.ReadableStream; stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; tty?: boolean }): Promise<number> {
  const stream = await new Promise<ClientChannel>((resolve, reject) => {
    const ptyOpts = io.tty ? { pty: { term: process.env['TERM'] ?? 'xterm-256color', cols: process.stdout.columns || 80, rows: process.stdout.rows || 24 } } : {};
    ssh.exec(command, ptyOpts, (err, s) => (err ? reject(err) : resolve(s)));
  });
  return await new Promise<number>((resolve, reject) => {
    let status: number | undefined;
    stream.on('exit', (code: number | null, signal?: string) => (status = statusFromExit(code, signal)));
    stream.pipe(io.stdout, { end: false });
    stream.stderr.pipe(io.stderr, { end: false });
    if (io.stdin) io.stdin.pipe(stream);
    else stream.end();
    stream.on('close', () => {
      if (io.stdin) io.stdin.unpipe(stream);
      if (status === undefined) reject(new SessionVmLostError(`the command's channel closed without an exit status (the VM or its agent went away)`));
      else resolve(status);
    });
  });
}

export async function execCommand(argv: string[], opts: ExecOptions): Promise<number> {
  const ctx = cliContext(opts.flags);
  const command = shellQuote(argv);
  const pipeStdin = opts.interactive ?? !process.stdin.isTTY;
  return await withSession(ctx, { cold: opts.cold ?? false }, async (session) => {
    const ssh = session.ssh;
    if (!ssh) throw new SessionVmLostError('no SSH connection');
    const status = await Promise.race([
      runCommand(ssh, command, { ...(pipeStdin ? { stdin: process.stdin } : {}), stdout: process.stdout, stderr: process.stderr, tty: opts.tty ?? false }),
      session.lost.then((e) => Promise.reject(e)),
    ]).catch(async (err: unknown) => {
      // The command's channel closes a moment before the session learns why (e.g. the VMM was killed):
      // prefer that precise reason if it arrives promptly.
      throw (await Promise.race([session.lost, new Promise<undefined>((r) => setTimeout(() => r(undefined), 2000).unref())])) ?? err;
    });
    if (pipeStdin) process.stdin.destroy();
    return status;
  });
}
