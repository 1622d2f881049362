/**
 * The contract between the supervisor and the guest agent for shells that outlive their SSH connection
 * (guest kept-shells.ts): a PTY shell request carrying KEPT_SHELL_ENV.id starts a shell the agent keeps
 * when the connection ends; one that also carries KEPT_SHELL_ENV.reattach joins the kept shell of that id
 * instead (refused if there is none). Neither variable reaches the shell's environment.
 */
export const KEPT_SHELL_ENV = { id: 'VIRTUALGHOST_KEPT_SHELL', reattach: 'VIRTUALGHOST_KEPT_SHELL_REATTACH' } as const;
/** 128 random bits in hex, made by the host. */
export const KEPT_SHELL_ID = /^[0-9a-f]{32}$/;
/** Output a detached shell keeps for the next attach; the oldest is dropped beyond it. */
export const KEPT_SHELL_BUFFER_BYTES = 1 << 20;
/** A detached shell nobody re-attached within this (guest running time, not suspended time) is hung up. */
export const KEPT_SHELL_DETACHED_MS = 10 * 60_000;
