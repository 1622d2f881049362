/**
 * One tab's virtual terminal: the guest's byte stream goes in, a cell grid comes out.
 *
 * The emulator is the only interpreter of guest output. It answers queries itself (DA, DSR, …):
 * those replies arrive on `onResponse` and must be written back to the shell, or programs that
 * probe the terminal (vim, fish, less) hang waiting.
 */
import {
  A_BLINK,
  A_BOLD,
  A_DIM,
  A_INVERSE,
  A_INVISIBLE,
  A_ITALIC,
  A_OVERLINE,
  A_STRIKE,
  A_UL_SHIFT,
  type Frame,
  type InputModes,
  type LinkTable,
} from './frame.js';
import {
  cellUrlId,
  createXterm,
  cursorShape,
  isCursorHidden,
  isPlainCell,
  linkData,
  mouseEncoding,
  underlineColor,
  underlineStyle,
  type IBufferCell,
  type MouseEncoding,
  type XTerminal,
} from './xterm.js';
import { cellWidth } from './cell-width.js';
import { sanitize } from './width.js';

export interface ClipboardRequest {
  /** OSC 52 selection targets, e.g. 'c' (clipboard) or 'p' (primary); validated. */
  selection: string;
  /** Base64 payload, validated; '' clears the clipboard. */
  base64: string;
}

type Listener<T> = (value: T) => void;

const OSC52_SELECTION = /^[cpqs0-7]*$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** OSC 52 payloads beyond this are dropped: no clipboard needs 1 MB from a guest. */
const OSC52_MAX = 1 << 20;

export class Screen {
  readonly term: XTerminal;
  title = '';
  private readonly cell: IBufferCell;
  private readonly responseListeners: Array<Listener<string>> = [];
  private readonly bellListeners: Array<Listener<void>> = [];
  private readonly clipboardListeners: Array<Listener<ClipboardRequest>> = [];
  private readonly changeListeners: Array<Listener<void>> = [];

  constructor(cols: number, rows: number, scrollback: number) {
    this.term = createXterm(Math.max(1, cols), Math.max(1, rows), scrollback);
    this.cell = this.term.buffer.active.getNullCell();
    this.term.onData((data) => {
      for (const l of this.responseListeners) l(data);
    });
    this.term.onBinary((data) => {
      for (const l of this.responseListeners) l(data);
    });
    this.term.onBell(() => {
      for (const l of this.bellListeners) l();
    });
    this.term.onTitleChange((title) => {
      this.title = sanitize(title).slice(0, 256);
      this.changed();
    });
    this.term.onWriteParsed(() => {
      this.changed();
    });
    this.term.parser.registerOscHandler(52, (data) => {
      this.clipboard(data);
      return true; // handled: xterm has no clipboard of its own anyway
    });
  }

  get cols(): number {
    return this.term.cols;
  }
  get rows(): number {
    return this.term.rows;
  }

  /** Replies the emulator generates (DA/DSR/…), to be written to the shell. */
  onResponse(cb: Listener<string>): void {
    this.responseListeners.push(cb);
  }
  onBell(cb: Listener<void>): void {
    this.bellListeners.push(cb);
  }
  onClipboard(cb: Listener<ClipboardRequest>): void {
    this.clipboardListeners.push(cb);
  }
  /** Something visible may have changed (parsed output, title). */
  onChange(cb: Listener<void>): void {
    this.changeListeners.push(cb);
  }

  /** Parse guest output; `done` runs once this chunk is parsed (for flow control). */
  write(data: Uint8Array | string, done?: () => void): void {
    this.term.write(data, done);
  }

  resize(cols: number, rows: number): void {
    cols = Math.max(1, cols);
    rows = Math.max(1, rows);
    if (cols !== this.term.cols || rows !== this.term.rows) this.term.resize(cols, rows);
  }

  get modes(): InputModes & {
    bracketedPaste: boolean;
    mouseEncoding: MouseEncoding;
    synchronized: boolean;
    alternate: boolean;
  } {
    const m = this.term.modes;
    return {
      appCursor: m.applicationCursorKeysMode,
      appKeypad: m.applicationKeypadMode,
      mouse: m.mouseTrackingMode,
      focus: m.sendFocusMode,
      bracketedPaste: m.bracketedPasteMode,
      mouseEncoding: mouseEncoding(this.term),
      synchronized: m.synchronizedOutputMode,
      alternate: this.term.buffer.active.type === 'alternate',
    };
  }

  /** Lines in the active buffer (scrollback + screen). */
  get length(): number {
    return this.term.buffer.active.length;
  }
  /** Buffer line shown at the top of the live screen. */
  get baseY(): number {
    return this.term.buffer.active.baseY;
  }

  lineText(y: number): string {
    return this.term.buffer.active.getLine(y)?.translateToString(true) ?? '';
  }

  isWrapped(y: number): boolean {
    return this.term.buffer.active.getLine(y)?.isWrapped ?? false;
  }

  /**
   * Copy the screen into `frame` rows [top, top + rows), starting at buffer line `firstLine`
   * (default: the live screen). Sets the frame's cursor and modes when showing the live screen.
   */
  paint(frame: Frame, top: number, links: LinkTable, firstLine = this.baseY): void {
    const buf = this.term.buffer.active;
    const cell = this.cell;
    const cols = Math.min(frame.cols, this.cols);
    const rows = Math.min(this.rows, frame.rows - top);
    for (let r = 0; r < rows; r++) {
      const line = buf.getLine(firstLine + r);
      const base = (top + r) * frame.cols;
      let x = 0;
      if (line !== undefined) {
        for (; x < cols; x++) {
          const i = base + x;
          if (line.getCell(x, cell) === undefined) break;
          const width = cell.getWidth();
          if (width === 0) {
            if (x > 0 && frame.widths[i - 1] === 2) {
              frame.set(
                i,
                '',
                0,
                frame.fg[i - 1] ?? 0,
                frame.bg[i - 1] ?? 0,
                frame.attrs[i - 1] ?? 0,
                frame.ul[i - 1] ?? 0,
                frame.links[i - 1] ?? 0,
              );
              continue;
            }
            // A zero-width character with nothing to join (e.g. ZWJ after a cursor move): xterm
            // keeps it as a cell of its own, which shows as blank. Draw a blank, with its colours.
          }
          const ch = width === 0 ? ' ' : visibleChars(cell.getChars());
          // Fast path for plain cells: the per-attribute getters below cost most of a frame's paint.
          if (isPlainCell(cell)) {
            frame.set(i, ch, width === 0 ? 1 : width, 0, 0, 0, 0, 0);
            continue;
          }
          let attrs = 0;
          if (cell.isBold()) attrs |= A_BOLD;
          if (cell.isDim()) attrs |= A_DIM;
          if (cell.isItalic()) attrs |= A_ITALIC;
          if (cell.isBlink()) attrs |= A_BLINK;
          if (cell.isInverse()) attrs |= A_INVERSE;
          if (cell.isInvisible()) attrs |= A_INVISIBLE;
          if (cell.isStrikethrough()) attrs |= A_STRIKE;
          if (cell.isOverline()) attrs |= A_OVERLINE;
          const ul = underlineStyle(cell);
          attrs |= ul << A_UL_SHIFT;
          const fgMode = cell.getFgColorMode();
          const bgMode = cell.getBgColorMode();
          const fg = fgMode === 0 ? 0 : (fgMode | (cell.getFgColor() & 0xffffff)) >>> 0;
          const bg = bgMode === 0 ? 0 : (bgMode | (cell.getBgColor() & 0xffffff)) >>> 0;
          const urlId = cellUrlId(cell);
          let link = 0;
          if (urlId !== 0) {
            const data = linkData(this.term, urlId);
            if (data !== undefined) link = links.intern(data.uri, data.id);
          }
          frame.set(i, ch, width === 0 ? 1 : width, fg, bg, attrs, ul === 0 ? 0 : underlineColor(cell), link);
        }
      }
      for (; x < frame.cols; x++) frame.set(base + x, ' ', 1, 0, 0, 0, 0, 0);
      // xterm can hold half a wide character (after a resize cuts it, or an overwrite of its right
      // half); a terminal cannot draw that, so such halves become blanks.
      frame.repairWide(top + r);
    }
    const live = firstLine === this.baseY;
    const { shape, blink } = cursorShape(this.term);
    frame.cursor = {
      x: Math.min(buf.cursorX, cols - 1),
      y: top + buf.cursorY,
      visible: live && !isCursorHidden(this.term),
      shape,
      blink,
    };
    const m = this.modes;
    frame.modes = { appCursor: m.appCursor, appKeypad: m.appKeypad, mouse: m.mouse, focus: m.focus };
  }

  dispose(): void {
    this.term.dispose();
  }

  private changed(): void {
    for (const l of this.changeListeners) l();
  }

  private clipboard(data: string): void {
    const semi = data.indexOf(';');
    if (semi < 0 || data.length > OSC52_MAX) return;
    const selection = data.slice(0, semi) || 'c';
    const base64 = data.slice(semi + 1);
    // '?' asks us to send the clipboard to the guest: never, whatever the policy (it leaks host data).
    if (base64 === '?' || !OSC52_SELECTION.test(selection) || !BASE64.test(base64)) return;
    for (const l of this.clipboardListeners) l({ selection, base64 });
  }
}

/**
 * A cell's text as the user's terminal should get it. Marks joined onto an empty cell (a combining
 * character or ZWJ printed where nothing was) have no base to sit on: sent alone, the user's terminal
 * would attach them to the cell before instead, so the cell is drawn blank.
 */
function visibleChars(chars: string): string {
  if (chars === '') return ' ';
  if (chars.charCodeAt(0) < 0x300) return chars;
  return cellWidth(chars.codePointAt(0) ?? 0) === 0 ? ' ' : chars;
}
