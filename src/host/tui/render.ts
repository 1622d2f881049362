/**
 * Double-buffer cell diff → minimal ANSI. The renderer remembers what the user's terminal shows
 * (`prev`) and emits only the cells, cursor, modes and title that differ in the next Frame.
 *
 * Invariants: the output contains only sequences generated here (guest bytes never pass through
 * raw), every frame leaves SGR/hyperlink state known, and the cursor position counts as unknown
 * (the next move is absolute) after a write into the last column (terminals differ in pending-wrap)
 * and after any cell the user's terminal may advance over differently from the guest: a grapheme
 * cluster or an emoji-class wide character (outer-width.ts), whose two columns are erased before it is
 * drawn so that no stale half survives a narrower count. Autowrap is off in the user's terminal
 * while we draw, so a character it counts wider than we do is clipped at the margin instead of
 * wrapping onto (or scrolling) rows we believe we know.
 */
import { Frame, type CursorState, type InputModes, type LinkTable } from './frame.js';
import { sgrTransition, type SgrState } from './sgr.js';
import { outerMayMiscount } from './outer-width.js';
import { sanitize } from './width.js';

export interface RendererOptions {
  /** Emit OSC 8 hyperlinks (terminals that do not know OSC 8 ignore it, but some users want none). */
  hyperlinks: boolean;
  /** Wrap frames in DEC 2026 synchronized output so that terminals that support it never tear. */
  synchronized: boolean;
}

const SHAPE_CODE = { default: 0, block: 2, underline: 4, bar: 6 } as const;
const MOUSE_MODE = { none: 0, x10: 1000, vt200: 1000, drag: 1002, any: 1003 } as const;
const DEFAULT_SGR: SgrState = { fg: 0, bg: 0, attrs: 0, ul: 0 };

export class Renderer {
  private prev: Frame;
  private full = true;
  private sgr: SgrState = DEFAULT_SGR;
  private link = 0;
  private linkGeneration: number;
  /** Where the terminal's cursor is; -1 = unknown (force an absolute move: CHA if only cx is). */
  private cx = -1;
  private cy = -1;
  /** What the terminal's cursor looks like; undefined = unknown (send it). */
  private cursorVisible: boolean | undefined;
  private shapeSent: string | undefined;
  private modes: InputModes | undefined;
  private title: string | undefined;
  private dirty = new Uint8Array(0);
  /** This frame's output so far (string concatenation beats one array entry per cell). */
  private out = '';

  constructor(
    private readonly links: LinkTable,
    private readonly opts: RendererOptions = { hyperlinks: true, synchronized: true },
  ) {
    this.prev = new Frame(0, 0);
    this.linkGeneration = links.generation;
  }

  /** Forget what the terminal shows: the next frame repaints everything (resize, SIGCONT, Ctrl-L). */
  invalidate(): void {
    this.full = true;
  }

  /** ANSI that turns the previous frame into `next` ('' if nothing changed). */
  render(next: Frame): string {
    this.out = '';
    if (this.links.generation !== this.linkGeneration) {
      this.linkGeneration = this.links.generation;
      this.full = true;
    }
    if (this.full || next.cols !== this.prev.cols || next.rows !== this.prev.rows) this.beginFull(next);
    this.modesAndTitle(next);
    const cellsAt = this.out.length;
    this.cells(next);
    if (this.out.length > cellsAt && this.cursorVisible !== false) {
      // Hide the cursor while cells change so it does not flicker across the screen.
      this.out = `${this.out.slice(0, cellsAt)}\x1b[?25l${this.out.slice(cellsAt)}`;
      this.cursorVisible = false;
    }
    this.setLink(0);
    this.finishCursor(next.cursor, next.cols, next.rows);
    this.prev.copyFrom(next);
    const body = this.out;
    this.out = '';
    if (body.length === 0) return '';
    return this.opts.synchronized ? `\x1b[?2026h${body}\x1b[?2026l` : body;
  }

  private beginFull(next: Frame): void {
    this.full = false;
    this.prev.resize(next.cols, next.rows);
    this.dirty = new Uint8Array(next.cols + 1);
    // Clear with default colours: every blank default cell then already matches `prev`.
    this.out += '\x1b[0m\x1b]8;;\x1b\\\x1b[?7l\x1b[H\x1b[2J';
    this.sgr = DEFAULT_SGR;
    this.link = 0;
    this.cx = 0;
    this.cy = 0;
    this.cursorVisible = undefined;
    this.shapeSent = undefined;
    this.modes = undefined;
    this.title = undefined;
  }

  private modesAndTitle(next: Frame): void {
    const want = next.modes;
    const had = this.modes;
    if (had?.appCursor !== want.appCursor) this.out += want.appCursor ? '\x1b[?1h' : '\x1b[?1l';
    if (had?.appKeypad !== want.appKeypad) this.out += want.appKeypad ? '\x1b=' : '\x1b>';
    if (had?.focus !== want.focus) this.out += want.focus ? '\x1b[?1004h' : '\x1b[?1004l';
    if (had?.mouse !== want.mouse) {
      // We always ask for SGR reports (no 223-column limit) and re-encode for the guest in input.
      this.out += '\x1b[?1003l\x1b[?1002l\x1b[?1000l';
      const mode = MOUSE_MODE[want.mouse];
      this.out += mode === 0 ? '\x1b[?1006l' : `\x1b[?${mode}h\x1b[?1006h`;
    }
    this.modes = { ...want };
    if (this.title !== next.title) {
      this.out += `\x1b]2;${sanitize(next.title)}\x07`;
      this.title = next.title;
    }
  }

  private cells(next: Frame): void {
    const prev = this.prev;
    const cols = next.cols;
    const dirty = this.dirty;
    for (let y = 0; y < next.rows; y++) {
      const row = y * cols;
      let any = false;
      for (let x = 0; x < cols; x++) {
        const d = differs(prev, next, row + x);
        dirty[x] = d ? 1 : 0;
        any ||= d;
      }
      if (!any) continue;
      // Wide characters are drawn and erased as a unit: touching either half repaints the pair,
      // in the old frame's pairing as well as the new one's.
      for (let x = cols - 1; x > 0; x--) {
        if (dirty[x] && (next.widths[row + x] === 0 || prev.widths[row + x] === 0)) dirty[x - 1] = 1;
      }
      for (let x = 0; x < cols - 1; x++) {
        if (dirty[x] && (next.widths[row + x] === 2 || prev.widths[row + x] === 2)) dirty[x + 1] = 1;
      }
      const lastInk = lastNonBlank(next, row, cols);
      for (let x = 0; x < cols; x++) {
        if (!dirty[x]) continue;
        const i = row + x;
        if (x > lastInk) {
          this.moveTo(x, y);
          this.setLink(0);
          this.setSgr(DEFAULT_SGR);
          this.out += '\x1b[K';
          break;
        }
        const w = next.widths[i] ?? 1;
        if (w === 0) continue; // drawn with its left half (or an orphan the emulator never makes)
        if (this.cx !== x || this.cy !== y) this.moveTo(x, y);
        const link = this.opts.hyperlinks ? (next.links[i] ?? 0) : 0;
        if (link !== this.link) this.setLink(link);
        // Compare in place: building a style object per cell costs more than the whole diff.
        const fg = next.fg[i] ?? 0;
        const bg = next.bg[i] ?? 0;
        const attrs = next.attrs[i] ?? 0;
        const ul = next.ul[i] ?? 0;
        const cur = this.sgr;
        if (fg !== cur.fg || bg !== cur.bg || attrs !== cur.attrs || ul !== cur.ul) this.setSgr({ fg, bg, attrs, ul });
        const text = next.chars[i] || ' ';
        const doubtful = outerMayMiscount(text);
        // Blank both columns first when the right one shows something of its own: a terminal that draws
        // this in one column would leave it showing (ECH does not move the cursor).
        this.out += doubtful && w === 2 && rightColumnShows(prev, i + 1, bg) ? `\x1b[2X${text}` : text;
        this.cx += w;
        if (w === 2) x++;
        if (this.cx >= cols || doubtful) this.cx = -1;
      }
    }
  }

  private moveTo(x: number, y: number): void {
    if (this.cx === x && this.cy === y) return;
    if (this.cy === y && this.cx >= 0 && x > this.cx) {
      const n = x - this.cx;
      this.out += n === 1 ? '\x1b[C' : `\x1b[${n}C`;
    } else if (this.cy === y) {
      // Only the column is in doubt (autowrap is off, so the row cannot have changed under us).
      this.out += x === 0 ? '\r' : `\x1b[${x + 1}G`;
    } else {
      this.out += `\x1b[${y + 1};${x + 1}H`;
    }
    this.cx = x;
    this.cy = y;
  }

  private setSgr(to: SgrState): void {
    const seq = sgrTransition(this.sgr, to);
    if (seq) this.out += seq;
    this.sgr = to;
  }

  private setLink(id: number): void {
    if (id === this.link) return;
    const entry = this.links.get(id);
    if (entry === undefined) {
      this.out += '\x1b]8;;\x1b\\';
      this.link = 0;
      return;
    }
    const params = entry.id !== undefined ? `id=${sanitize(entry.id).replace(/[:;]/g, '')}` : '';
    this.out += `\x1b]8;${params};${sanitize(entry.uri)}\x1b\\`;
    this.link = id;
  }

  private finishCursor(want: CursorState, cols: number, rows: number): void {
    if (want.visible) {
      const shape = `${want.shape}/${want.blink}`;
      if (this.shapeSent !== shape) {
        const code = SHAPE_CODE[want.shape];
        this.out += `\x1b[${code === 0 ? 0 : code - (want.blink ? 1 : 0)} q`;
        this.shapeSent = shape;
      }
      if (rows > 0 && cols > 0)
        this.moveTo(Math.max(0, Math.min(want.x, cols - 1)), Math.max(0, Math.min(want.y, rows - 1)));
      if (this.cursorVisible !== true) this.out += '\x1b[?25h';
    } else if (this.cursorVisible !== false) {
      this.out += '\x1b[?25l';
    }
    this.cursorVisible = want.visible;
  }
}

function differs(a: Frame, b: Frame, i: number): boolean {
  return (
    a.chars[i] !== b.chars[i] ||
    a.widths[i] !== b.widths[i] ||
    a.fg[i] !== b.fg[i] ||
    a.bg[i] !== b.bg[i] ||
    a.attrs[i] !== b.attrs[i] ||
    a.ul[i] !== b.ul[i] ||
    a.links[i] !== b.links[i]
  );
}

/**
 * Whether cell `i` of the previous frame shows anything a new background `bg` would not: a character, or
 * another background. The right half of a wide character does not count: its left half is redrawn.
 */
function rightColumnShows(prev: Frame, i: number, bg: number): boolean {
  if (prev.widths[i] === 0) return false;
  return prev.chars[i] !== ' ' || prev.bg[i] !== bg || (prev.attrs[i] ?? 0) !== 0;
}

/** Index of the last cell in the row that is not a default-styled blank (-1 if the row is empty). */
function lastNonBlank(f: Frame, row: number, cols: number): number {
  for (let x = cols - 1; x >= 0; x--) {
    const i = row + x;
    if (f.chars[i] !== ' ' || f.fg[i] !== 0 || f.bg[i] !== 0 || f.attrs[i] !== 0 || f.links[i] !== 0) return x;
  }
  return -1;
}
