/**
 * A tab: one guest shell and the emulator that interprets its output. Background tabs keep
 * parsing, so switching to them shows their current state at once.
 */
import { constants } from 'node:os';
import { Screen } from './screen.js';
import type { ShellStream } from './types.js';
import { parseNextWriteAtOnce } from './xterm.js';

/** Unparsed bytes per tab before the shell is paused (xterm throws past 50 MB). */
const HIGH_WATER = 4 << 20;
const LOW_WATER = 512 << 10;

export class Tab {
  readonly screen: Screen;
  /** Rang the bell while in the background; cleared when shown. */
  bell = false;
  private unparsed = 0;
  private paused = false;

  constructor(
    readonly shell: ShellStream,
    cols: number,
    rows: number,
    scrollback: number,
  ) {
    this.screen = new Screen(cols, rows, scrollback);
    // Emulator replies (DA, DSR, …) go back to the program that asked.
    this.screen.onResponse((data) => {
      shell.write(data);
    });
    shell.onData((data) => {
      this.output(data);
    });
  }

  get title(): string {
    return this.screen.title;
  }

  /** User keystrokes (or a paste) for this shell; the echo is then parsed without delay. */
  input(data: string | Uint8Array): void {
    parseNextWriteAtOnce(this.screen.term);
    this.shell.write(data);
  }

  resize(cols: number, rows: number): void {
    if (cols === this.screen.cols && rows === this.screen.rows) return;
    this.screen.resize(cols, rows);
    this.shell.resize(cols, rows);
  }

  close(): void {
    this.shell.close();
  }

  dispose(): void {
    this.screen.dispose();
  }

  private output(data: Uint8Array): void {
    if (this.unparsed > 40 << 20) return; // cannot pause this shell and far behind: drop, do not crash
    // Nothing queued: parse this chunk now rather than on xterm's next timer tick (≥ 1 ms in Node).
    // Under a flood chunks queue up and xterm goes back to parsing them in time-sliced batches.
    if (this.unparsed === 0) parseNextWriteAtOnce(this.screen.term);
    this.unparsed += data.length;
    this.screen.write(data, () => {
      this.unparsed -= data.length;
      if (this.paused && this.unparsed < LOW_WATER) {
        this.paused = false;
        this.shell.resume?.();
      }
    });
    if (!this.paused && this.unparsed > HIGH_WATER && this.shell.pause) {
      this.paused = true;
      this.shell.pause();
    }
  }
}

/** Shell exit → process-style exit code (128 + n for a signal). */
export function exitCode(result: { code: number | null; signal: string | null }): number {
  if (result.code !== null) return result.code;
  const n = result.signal ? (constants.signals as Record<string, number | undefined>)[result.signal] : undefined;
  return n !== undefined ? 128 + n : 1;
}
