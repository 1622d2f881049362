/**
 * Ghostly Term: the full-screen terminal UI around guest shells. The session calls `runTui` once
 * the SSH connection is up; it resolves when the last shell exits, on prefix-q, or on a signal,
 * always with the user's terminal restored.
 */
import { TuiApp } from './app.js';
import type { TuiBackend, TuiIo, TuiOptions, TuiResult } from './types.js';

export type {
  ClipboardPolicy,
  ConnectionState,
  ShellStream,
  StatusInfo,
  TuiBackend,
  TuiExitReason,
  TuiIo,
  TuiOptions,
  TuiResult,
} from './types.js';
export { DEFAULT_TUI_OPTIONS, QUIET_AFTER_INPUT_END_MS } from './types.js';
export { TuiConfigError } from './errors.js';

/**
 * Run the TUI until it ends. Rejects (with the terminal restored) only if the first shell cannot be
 * opened or the options are invalid (TuiConfigError); later failures end it with reason 'error'.
 */
export async function runTui(
  backend: TuiBackend,
  io: TuiIo,
  opts: TuiOptions,
  /** Ends the TUI from outside (its VM died): it resolves with reason 'error' and the abort reason. */
  stop?: AbortSignal,
): Promise<TuiResult> {
  const app = new TuiApp(backend, io, opts);
  await app.start();
  const onStop = (): void => {
    app.finish({ exitCode: 1, reason: 'error', error: stop?.reason });
  };
  if (stop?.aborted) onStop();
  stop?.addEventListener('abort', onStop, { once: true });
  try {
    return await app.done;
  } finally {
    stop?.removeEventListener('abort', onStop);
  }
}
