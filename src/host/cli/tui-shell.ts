/** `run` on a terminal: the full-screen TUI (Ghostly Term) around the session's shells. */
import { runTui } from '../tui/index.js';
import type { VmSession } from '../session.js';
import { sessionTuiBackend } from '../tui-backend.js';
import type { CliContext } from './context.js';

export async function tuiShell(session: VmSession, ctx: CliContext): Promise<number> {
  const v = ctx.config.values;
  const result = await runTui(sessionTuiBackend(session), { input: process.stdin, output: process.stdout }, {
    statusPosition: v['tui.status'],
    prefixKey: v['tui.prefix'],
    clipboard: v['tui.clipboard'],
    scrollback: v['tui.scrollback'],
  });
  if (result.reason === 'error') throw result.error instanceof Error ? result.error : new Error(String(result.error));
  return result.exitCode;
}
