/** Placeholder wiring point for the full-screen TUI; until it lands, the raw terminal serves. */
import type { VmSession } from '../session.js';
import type { CliContext } from './context.js';
import { rawShell } from './raw-terminal.js';

export async function tuiShell(session: VmSession, _ctx: CliContext): Promise<number> {
  if (!session.ssh) throw new Error('no SSH connection');
  return await rawShell(session.ssh, { stdin: process.stdin, stdout: process.stdout });
}
