/**
 * How chatty our own output is, set once from the global flags: `--quiet` drops notices and progress
 * (errors always print), `--verbose` adds boot phase timings (as VIRTUALGHOST_DEBUG=1 always did).
 * (`NO_COLOR` is honoured where we draw colour ourselves: the TUI status line, see tui/types.ts.)
 */
import { DEBUG_ENV } from '../config/other-env.js';
export interface OutputMode {
  quiet: boolean;
  verbose: boolean;
}

let mode: OutputMode = { quiet: false, verbose: false };

export function setOutputMode(next: Partial<OutputMode>): void {
  mode = { quiet: next.quiet ?? false, verbose: (next.verbose ?? false) && !(next.quiet ?? false) };
}

export const isQuiet = (): boolean => mode.quiet;

/** Boot phase timings: `--verbose`, or VIRTUALGHOST_DEBUG for those who already use it. */
export const isVerbose = (): boolean => mode.verbose || (!mode.quiet && Boolean(process.env[DEBUG_ENV]));
