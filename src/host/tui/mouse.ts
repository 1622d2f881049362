/**
 * Mouse reports: the user's terminal always sends SGR (1006) reports to us; the guest gets them
 * in whatever encoding it asked for, with rows shifted past a top status line, and only the event
 * kinds its tracking mode wants.
 */
import type { MouseTracking } from './frame.js';
import type { MouseEncoding } from './xterm.js';

export interface MouseEvent {
  /** Raw button byte (low bits button, 4 shift, 8 meta, 16 ctrl, 32 motion, 64 wheel). */
  button: number;
  /** 1-based cell coordinates in the user's terminal. */
  x: number;
  y: number;
  release: boolean;
}

export interface MouseTarget {
  tracking: MouseTracking;
  encoding: MouseEncoding;
  /** Rows of the user's terminal above the guest's row 1. */
  top: number;
  cols: number;
  rows: number;
}

export function parseSgrMouse(seq: string): MouseEvent | undefined {
  // eslint-disable-next-line no-control-regex
  const m = /^\x1b\[<(\d+);(\d+);(\d+)([Mm])$/.exec(seq);
  if (!m) return undefined;
  return { button: Number(m[1]), x: Number(m[2]), y: Number(m[3]), release: m[4] === 'm' };
}

/**
 * The bytes to send to the guest for this event, or undefined if the guest should not see it.
 * The X10 encoding carries coordinates as raw bytes (not UTF-8), hence a Uint8Array there.
 */
export function encodeForGuest(ev: MouseEvent, t: MouseTarget): string | Uint8Array | undefined {
  const y = ev.y - t.top;
  if (t.tracking === 'none' || y < 1 || y > t.rows || ev.x < 1 || ev.x > t.cols) return undefined;
  const motion = (ev.button & 32) !== 0;
  const wheel = (ev.button & 64) !== 0;
  const noButton = (ev.button & 3) === 3 && !wheel;
  if (t.tracking === 'x10' && (ev.release || motion)) return undefined;
  if (t.tracking === 'vt200' && motion) return undefined;
  if (t.tracking === 'drag' && motion && noButton) return undefined;
  const x = ev.x;
  switch (t.encoding) {
    case 'SGR':
    case 'SGR_PIXELS':
      return `\x1b[<${ev.button};${x};${y}${ev.release ? 'm' : 'M'}`;
    case 'URXVT': {
      const b = ev.release ? (ev.button & ~3) | 3 : ev.button;
      return `\x1b[${b + 32};${x};${y}M`;
    }
    case 'UTF8': {
      // Normal encoding with UTF-8 coordinates (up to 2015); release is button 3.
      const b = ev.release ? (ev.button & ~3) | 3 : ev.button;
      if (x > 2015 || y > 2015) return undefined;
      return `\x1b[M${String.fromCharCode(b + 32)}${String.fromCodePoint(x + 32)}${String.fromCodePoint(y + 32)}`;
    }
    case 'DEFAULT': {
      // X10/normal encoding: one raw byte each for button, column and row (so at most 223).
      const b = ev.release ? (ev.button & ~3) | 3 : ev.button;
      if (x > 223 || y > 223 || b + 32 > 255) return undefined;
      return Uint8Array.of(0x1b, 0x5b, 0x4d, b + 32, x + 32, y + 32);
    }
  }
}
