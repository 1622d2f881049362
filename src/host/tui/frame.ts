/**
 * A Frame is everything the user's terminal should show: cells, cursor, input modes and title.
 * The renderer diffs two Frames; nothing else writes to the terminal while the TUI runs (apart
 * from bells and clipboard writes, which are events, not state).
 *
 * Cells live in parallel typed arrays (one entry per cell, row-major) so that a 200×50 frame is a
 * handful of allocations and the diff is a tight loop.
 */
import { codePointWidth } from './width.js';

/** Colour packing shared with xterm's cell API: mode in bits 24–25, value below. 0 = default. */
export const CM_MASK = 0x3000000;
export const CM_P16 = 0x1000000;
export const CM_P256 = 0x2000000;
export const CM_RGB = 0x3000000;

export const A_BOLD = 1;
export const A_DIM = 2;
export const A_ITALIC = 4;
export const A_BLINK = 8;
export const A_INVERSE = 16;
export const A_INVISIBLE = 32;
export const A_STRIKE = 64;
export const A_OVERLINE = 128;
/** Underline style 0–5 lives in bits 8–10. */
export const A_UL_SHIFT = 8;
export const A_UL_MASK = 7 << A_UL_SHIFT;

/** 'default' = whatever the user configured (DECSCUSR 0); the guest never asked for a shape. */
export type CursorShape = 'default' | 'block' | 'underline' | 'bar';
export type MouseTracking = 'none' | 'x10' | 'vt200' | 'drag' | 'any';

export interface CursorState {
  x: number;
  y: number;
  visible: boolean;
  shape: CursorShape;
  blink: boolean;
}

/** Modes that change what the user's terminal sends us, so they must mirror the guest's. */
export interface InputModes {
  appCursor: boolean;
  appKeypad: boolean;
  mouse: MouseTracking;
  focus: boolean;
}

export interface Style {
  fg: number;
  bg: number;
  attrs: number;
}

export const DEFAULT_STYLE: Style = { fg: 0, bg: 0, attrs: 0 };

export class Frame {
  cols = 0;
  rows = 0;
  /** The cell's text ('' for the right half of a wide character, ' ' for blank). */
  chars: string[] = [];
  /** 0 = right half of a wide character, 1, 2. */
  widths = new Uint8Array(0);
  fg = new Uint32Array(0);
  bg = new Uint32Array(0);
  ul = new Uint32Array(0);
  attrs = new Uint16Array(0);
  /** Hyperlink id from a LinkTable, 0 = none. */
  links = new Uint32Array(0);
  cursor: CursorState = { x: 0, y: 0, visible: true, shape: 'default', blink: false };
  modes: InputModes = { appCursor: false, appKeypad: false, mouse: 'none', focus: false };
  title = '';

  constructor(cols: number, rows: number) {
    this.resize(cols, rows);
  }

  resize(cols: number, rows: number): void {
    this.cols = Math.max(0, cols);
    this.rows = Math.max(0, rows);
    const n = this.cols * this.rows;
    this.chars = new Array<string>(n).fill(' ');
    this.widths = new Uint8Array(n).fill(1);
    this.fg = new Uint32Array(n);
    this.bg = new Uint32Array(n);
    this.ul = new Uint32Array(n);
    this.attrs = new Uint16Array(n);
    this.links = new Uint32Array(n);
  }

  clear(): void {
    this.chars.fill(' ');
    this.widths.fill(1);
    this.fg.fill(0);
    this.bg.fill(0);
    this.ul.fill(0);
    this.attrs.fill(0);
    this.links.fill(0);
  }

  /** Blank one row with a style (status line background). */
  fillRow(y: number, style: Style): void {
    if (y < 0 || y >= this.rows) return;
    for (let i = y * this.cols, end = i + this.cols; i < end; i++) {
      this.set(i, ' ', 1, style.fg, style.bg, style.attrs, 0, 0);
    }
  }

  set(i: number, ch: string, width: number, fg: number, bg: number, attrs: number, ul: number, link: number): void {
    this.chars[i] = ch;
    this.widths[i] = width;
    this.fg[i] = fg;
    this.bg[i] = bg;
    this.attrs[i] = attrs;
    this.ul[i] = ul;
    this.links[i] = link;
  }

  /**
   * Draw TUI-owned text (already sanitized) at (x, y), clipped to `maxX`; returns the column after it.
   * A wide character that would straddle the clip edge is replaced by a space, as terminals do.
   */
  text(x: number, y: number, text: string, style: Style, maxX = this.cols): number {
    if (y < 0 || y >= this.rows) return x;
    const limit = Math.min(maxX, this.cols);
    const base = y * this.cols;
    for (const ch of text) {
      const w = codePointWidth(ch.codePointAt(0) ?? 0);
      if (w === 0) continue;
      if (x + w > limit) {
        if (x < limit) this.set(base + x++, ' ', 1, style.fg, style.bg, style.attrs, 0, 0);
        break;
      }
      this.set(base + x, ch, w, style.fg, style.bg, style.attrs, 0, 0);
      if (w === 2) this.set(base + x + 1, '', 0, style.fg, style.bg, style.attrs, 0, 0);
      x += w;
    }
    return x;
  }

  /**
   * After drawing over guest cells (overlays), blank any wide character that lost one of its
   * halves, so that the renderer never sees half a glyph.
   */
  repairWide(y: number): void {
    const base = y * this.cols;
    for (let x = 0; x < this.cols; x++) {
      const i = base + x;
      const w = this.widths[i];
      const orphanLeft = w === 2 && (x + 1 >= this.cols || this.widths[i + 1] !== 0);
      const orphanRight = w === 0 && (x === 0 || this.widths[i - 1] !== 2);
      if (orphanLeft || orphanRight) this.set(i, ' ', 1, this.fg[i] ?? 0, this.bg[i] ?? 0, this.attrs[i] ?? 0, 0, 0);
    }
  }

  copyFrom(other: Frame): void {
    if (other.cols !== this.cols || other.rows !== this.rows) this.resize(other.cols, other.rows);
    for (let i = 0; i < other.chars.length; i++) this.chars[i] = other.chars[i] ?? ' ';
    this.widths.set(other.widths);
    this.fg.set(other.fg);
    this.bg.set(other.bg);
    this.ul.set(other.ul);
    this.attrs.set(other.attrs);
    this.links.set(other.links);
    this.cursor = { ...other.cursor };
    this.modes = { ...other.modes };
    this.title = other.title;
  }
}

/** Interns OSC 8 targets so cells carry a small number; the renderer maps it back. */
export class LinkTable {
  /** Bumped when ids are recycled: the renderer then redraws everything (old ids mean new links). */
  generation = 0;
  private readonly ids = new Map<string, number>();
  private readonly entries: Array<{ id: string | undefined; uri: string }> = [{ id: undefined, uri: '' }];

  intern(uri: string, id: string | undefined): number {
    const key = `${id ?? ''}\u0000${uri}`;
    let n = this.ids.get(key);
    if (n === undefined) {
      // Bounded: a guest printing endless distinct links must not grow memory forever.
      if (this.entries.length > 65_536) this.reset();
      n = this.entries.length;
      this.entries.push({ id, uri });
      this.ids.set(key, n);
    }
    return n;
  }

  get(n: number): { id: string | undefined; uri: string } | undefined {
    return n === 0 ? undefined : this.entries[n];
  }

  private reset(): void {
    this.generation++;
    this.ids.clear();
    this.entries.length = 1;
  }
}
