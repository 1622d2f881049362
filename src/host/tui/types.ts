/**
 * The contract between Ghostly Term and the rest of the app. The session owns the VM and the SSH
 * connection; the TUI only needs "give me a shell of this size" and "what should the status line say".
 */

/** One guest shell: an SSH channel with a PTY, or in tests a local node-pty shell. */
export interface ShellStream {
  write(data: string | Uint8Array): void;
  onData(cb: (data: Uint8Array) => void): void;
  /** Sent as SSH window-change; the guest kernel then raises SIGWINCH. */
  resize(cols: number, rows: number): void;
  close(): void;
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  /**
   * Optional flow control: the TUI pauses a shell whose output it cannot parse fast enough, so a
   * flood (`cat /dev/urandom`) holds memory bounded instead of queueing in the emulator.
   */
  pause?(): void;
  resume?(): void;
}

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'lost';

/** Everything the status line shows; the TUI polls it (cheap, synchronous) once a second. */
export interface StatusInfo {
  name: string;
  backend: string; // 'qemu' | 'firecracker'
  accel: string; // 'tcg' | 'kvm'
  vcpus: number;
  memoryMiB: number;
  /** Spawn → agent answering, ms. */
  readyMs?: number;
  /** Session start (ms since epoch), for the uptime. */
  startedAt: number;
  connection: ConnectionState;
  /** Published ports, already formatted (`8080->80`); none: absent or empty. */
  ports?: readonly string[];
  /** Live guest figures from the control stream; undefined until the first `stats` frame. */
  guestCpuPercent?: number;
  guestMemUsedBytes?: number;
  guestMemTotalBytes?: number;
}

export interface TuiBackend {
  /** New tab = new shell (a new SSH channel on the same connection). */
  openShell(size: { cols: number; rows: number }): Promise<ShellStream>;
  statusInfo(): StatusInfo;
  /**
   * For the quit confirmation: how many user processes would die with the VM. Rejects if it cannot tell;
   * the user is then asked anyway (a failed check never counts as "none").
   */
  runningProcessCount?(): Promise<number>;
  /**
   * A VM held by a supervisor: shells that already run there (each becomes a tab, showing its current
   * screen), and prefix-d detaches — the VM and its shells keep running.
   */
  existingShells?(size: { cols: number; rows: number }): Promise<ShellStream[]>;
  readonly detachable?: boolean;
}

export type ClipboardPolicy = 'ask' | 'allow' | 'deny';

export interface TuiOptions {
  statusPosition: 'top' | 'bottom';
  /** tmux-style key name, e.g. 'C-]' (default), 'C-a', 'C-b'. */
  prefixKey: string;
  /** OSC 52 writes from the guest (and copy-mode copies). Reading the host clipboard is never allowed. */
  clipboard: ClipboardPolicy;
  /** Lines kept per tab; bounds memory under endless output. */
  scrollback: number;
  /**
   * false: our own status line uses inverse/bold only (the guest's colours pass through). Default: off
   * when NO_COLOR is set (https://no-color.org), so every caller of runTui follows it.
   */
  color?: boolean;
}

/**
 * Once input has ended (stdin from /dev/null or a finished pipe), a VM that keeps running is detached from
 * when its shell has been quiet this long: what was piped in has been answered (`attach`, TUI or not).
 */
export const QUIET_AFTER_INPUT_END_MS = 2_000;

export const DEFAULT_TUI_OPTIONS: TuiOptions = {
  statusPosition: 'bottom',
  prefixKey: 'C-]',
  clipboard: 'ask',
  scrollback: 10_000,
};

/** Why the TUI ended, for the session's exit code and messages. */
export type TuiExitReason = 'shell-exited' | 'quit' | 'detached' | 'signal' | 'error';

export interface TuiResult {
  exitCode: number;
  reason: TuiExitReason;
  /** With reason 'error': what went wrong inside the TUI (the terminal is already restored). */
  error?: unknown;
  /** With reason 'detached': it was the input's end (stdin at EOF, not a key) that detached. */
  inputEnded?: boolean;
}

/** The user's terminal: stdin/stdout in production, pipes or a tmux pane in tests. */
export interface TuiIo {
  input: NodeJS.ReadStream;
  output: NodeJS.WriteStream;
}
