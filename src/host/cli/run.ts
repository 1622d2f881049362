/** `virtualghost run [--raw]`: a fresh VM, a shell in it, and nothing left when the shell exits. */
import type { ConfigKey } from '../config/schema.js';
import { SessionVmLostError } from '../session-errors.js';
import { cliContext } from './context.js';
import { rawShell } from './raw-terminal.js';
import { withSession } from './with-session.js';
import { tuiShell } from './tui-shell.js';

export interface RunOptions {
  raw?: boolean;
  cold?: boolean;
  flags: Partial<Record<ConfigKey, unknown>>;
}

export async function runCommand(opts: RunOptions): Promise<number> {
  const ctx = cliContext(opts.flags);
  return await withSession(ctx, { cold: opts.cold ?? false }, async (session) => {
    const ssh = session.ssh;
    if (!ssh) throw new SessionVmLostError('no SSH connection');
    const shell = opts.raw || !process.stdout.isTTY ? rawShell(ssh, { stdin: process.stdin, stdout: process.stdout }) : tuiShell(session, ctx);
    return await Promise.race([shell, session.lost.then((e) => Promise.reject(e))]);
  });
}
