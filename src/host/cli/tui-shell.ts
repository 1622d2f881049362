/** `run` on a terminal: the full-screen TUI (Ghostly Term) around the session's shells. */
import { runTui, type TuiOptions } from '../tui/index.js';
import type { VmSession } from '../session.js';
import { sessionTuiBackend } from '../session-tui-backend.js';
import type { CliContext } from './context.js';
import type { PublishedPort } from '../ports/spec.js';

/** The TUI's settings from the `tui.*` config keys (throw-away runs and attaching to named VMs alike). */
export function tuiOptions(ctx: CliContext): TuiOptions {
  const v = ctx.config.values;
  return {
    statusPosition: v['tui.status'],
    prefixKey: v['tui.prefix'],
    clipboard: v['tui.clipboard'],
    scrollback: v['tui.scrollback'],
  };
}

/** `ports`: the published ports now, for the status line. */
export async function tuiShell(
  session: VmSession,
  ctx: CliContext,
  ports?: () => readonly PublishedPort[],
  stop?: AbortSignal,
): Promise<number> {
  const result = await runTui(
    sessionTuiBackend(session, ports),
    { input: process.stdin, output: process.stdout },
    tuiOptions(ctx),
    stop,
  );
  if (result.reason === 'error') throw result.error instanceof Error ? result.error : new Error(String(result.error));
  return result.exitCode;
}
