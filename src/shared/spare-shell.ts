/**
 * The contract between the host's TUI and the guest agent's spare login shell (guest spare-shell.ts):
 * the spare is started with exactly this TERM and environment, and handed only to a PTY shell request
 * that asks for exactly these. Both sides import them from here; if they drifted apart the spare would
 * silently never be used and every first tab would pay a cold bash start-up.
 */
export const SPARE_TERM = 'xterm-256color';
export const SPARE_ENV: Readonly<Record<string, string>> = { LANG: 'C.UTF-8', COLORTERM: 'truecolor' };
/** Logged on the guest console once the spare has printed its prompt; template warm-up waits for it. */
export const SPARE_READY_LOG = 'spare shell ready';
