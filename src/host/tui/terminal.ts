/**
 * The user's terminal: raw mode, alternate screen and the promise to give it back intact.
 *
 * `restore()` is idempotent and runs on every exit path: normal end, error, SIGTERM/SIGHUP/SIGINT,
 * uncaught exception, process exit. It resets every mode the renderer may have turned on, whether
 * or not it did, because after a crash we cannot know.
 */
import { writeSync } from 'node:fs';
import type { TuiIo } from './types.js';

/** Save the title, alternate screen, bracketed paste on (so pasted prefix bytes stay text), home. */
export const ENTER_SEQUENCE = '\x1b[22;0t\x1b[?1049h\x1b[?2004h\x1b[H\x1b[2J';

export const RESTORE_SEQUENCE = [
  '\x1b[?2026l', // end a synchronized update we may have opened
  '\x1b[0m', // default colours
  '\x1b]8;;\x1b\\', // close a hyperlink
  '\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l', // mouse reporting off
  '\x1b[?1005l\x1b[?1015l\x1b[?9l',
  '\x1b[?2004l', // bracketed paste off
  '\x1b[?1004l', // focus events off
  '\x1b[?1l\x1b>', // normal cursor keys and keypad
  '\x1b[?7h', // autowrap back on (the renderer draws with it off)
  '\x1b[0 q', // the user's cursor shape
  '\x1b[?25h', // cursor visible
  '\x1b[?1049l', // leave the alternate screen (restores the cursor)
  '\x1b[23;0t', // restore the saved title
].join('');

export class OuterTerminal {
  private entered = false;

  constructor(private readonly io: TuiIo) {}

  size(): { cols: number; rows: number } {
    const { columns, rows } = this.io.output;
    return { cols: columns > 0 ? columns : 80, rows: rows > 0 ? rows : 24 };
  }

  enter(): void {
    if (this.io.input.isTTY) this.io.input.setRawMode(true);
    this.io.input.resume();
    this.io.output.write(ENTER_SEQUENCE);
    this.entered = true;
  }

  /** After SIGCONT the shell that resumed us may have reset the terminal: take it again. */
  reenter(): void {
    if (!this.entered) return;
    if (this.io.input.isTTY) this.io.input.setRawMode(true);
    this.io.output.write('\x1b[?1049h\x1b[?2004h');
  }

  /** Returns false when the stream is backed up (the caller then waits for 'drain'). */
  write(data: string): boolean {
    return this.io.output.write(data);
  }

  /**
   * Give the terminal back. `sync` writes with writeSync on the fd: on a crash or in an 'exit'
   * handler there is no event loop left to flush a stream write.
   */
  restore(sync = false): Promise<void> {
    if (!this.entered) return Promise.resolve();
    this.entered = false;
    try {
      if (this.io.input.isTTY) this.io.input.setRawMode(false);
    } catch {
      // SIGHUP: the terminal is gone; nothing to restore on it.
    }
    this.io.input.pause();
    const fd = (this.io.output as { fd?: unknown }).fd;
    if (sync && typeof fd === 'number') {
      try {
        writeSync(fd, RESTORE_SEQUENCE);
      } catch {
        // EIO/EPIPE after a hangup
      }
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      try {
        this.io.output.write(RESTORE_SEQUENCE, () => {
          resolve();
        });
      } catch {
        resolve();
      }
    });
  }
}

export type SafetySignal = 'SIGTERM' | 'SIGHUP' | 'SIGINT';

/**
 * Restore the terminal however the process ends. Signals are reported to `onSignal` (the app
 * ends cleanly and the caller decides the exit); crashes restore synchronously and then let Node
 * report the error as usual (uncaughtExceptionMonitor does not swallow it).
 */
export function installSafety(
  term: OuterTerminal,
  onSignal: (sig: SafetySignal) => void,
  onContinue: () => void,
): () => void {
  const onExit = (): void => {
    void term.restore(true);
  };
  const onCrash = (): void => {
    void term.restore(true);
  };
  const handlers: Array<[SafetySignal, () => void]> = (['SIGTERM', 'SIGHUP', 'SIGINT'] as const).map((sig) => [
    sig,
    () => {
      if (sig === 'SIGHUP') void term.restore(true);
      onSignal(sig);
    },
  ]);
  process.on('exit', onExit);
  process.on('uncaughtExceptionMonitor', onCrash);
  process.on('SIGCONT', onContinue);
  for (const [sig, h] of handlers) process.on(sig, h);
  return () => {
    process.off('exit', onExit);
    process.off('uncaughtExceptionMonitor', onCrash);
    process.off('SIGCONT', onContinue);
    for (const [sig, h] of handlers) process.off(sig, h);
  };
}
