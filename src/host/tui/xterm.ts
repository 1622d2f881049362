/**
 * The one place that touches @xterm/headless directly, including the few private fields we need.
 *
 * The public headless API lacks cursor visibility, DECSCUSR shape, the mouse encoding, underline
 * styles/colours and OSC 8 link targets. Reading them from `_core` is the price of fidelity; every
 * access goes through the narrow, optional-typed views below so that an xterm upgrade that moves a
 * field degrades to a default instead of crashing (and the golden tests catch it).
 */
import xtermHeadless from '@xterm/headless';
import type { IBufferCell, Terminal as XTerminal } from '@xterm/headless';
import { cellWidth, GUEST_UNICODE_VERSION, guestWidthProvider } from './cell-width.js';

const { Terminal } = xtermHeadless;

export type { XTerminal, IBufferCell };

export function createXterm(cols: number, rows: number, scrollback: number): XTerminal {
  // logLevel off: xterm logs parse errors with console.error, which would write over our screen.
  const term = new Terminal({ cols, rows, scrollback, allowProposedApi: true, logLevel: 'off' });
  // The guest's widths, not a Unicode version's (see cell-width.ts).
  term.unicode.register(guestWidthProvider);
  term.unicode.activeVersion = GUEST_UNICODE_VERSION;
  dropMarksAtColumnZero(term);
  return term;
}

interface PrintView {
  print?(data: Uint32Array, start: number, end: number): void;
}

/**
 * A zero-width code point at column 0 has no cell to join (cell-width.ts joins it to the one before the
 * cursor): the guest's wcwidth counts it 0 and tmux drops it, while xterm would give it a cell of its
 * own and move the cursor one column right of where the guest believes it is. Drop it before xterm
 * prints. (Within one print call the cursor only reaches column 0 again by wrapping, after a base
 * character, so checking the start of each call is enough.)
 */
function dropMarksAtColumnZero(term: XTerminal): void {
  const handler = (term as unknown as { _core?: { _inputHandler?: PrintView } })._core?._inputHandler;
  const print = handler?.print?.bind(handler);
  if (handler === undefined || print === undefined) return;
  handler.print = (data, start, end) => {
    if (term.buffer.active.cursorX === 0) while (start < end && cellWidth(data[start] ?? 0x20) === 0) start++;
    if (start < end) print(data, start, end);
  };
}

import type { CursorShape } from './frame.js';
export type MouseEncoding = 'DEFAULT' | 'SGR' | 'SGR_PIXELS' | 'URXVT' | 'UTF8';

interface CoreView {
  coreService?: {
    isCursorHidden?: boolean;
    decPrivateModes?: { cursorStyle?: 'block' | 'underline' | 'bar'; cursorBlink?: boolean };
  };
  coreMouseService?: { activeEncoding?: string };
  _oscLinkService?: { getLinkData(id: number): { id?: string; uri: string } | undefined };
}

interface CellView {
  /** Colour mode/value and attribute bits, packed (CellData's own fields). */
  fg?: number;
  bg?: number;
  extended?: { urlId?: number; _ext?: number; underlineColor?: number };
  getUnderlineStyle?(): number;
}

function core(term: XTerminal): CoreView {
  return (term as unknown as { _core?: CoreView })._core ?? {};
}

export function isCursorHidden(term: XTerminal): boolean {
  return core(term).coreService?.isCursorHidden === true;
}

/** DECSCUSR state; xterm keeps it apart from the `cursorStyle` option, which is the default. */
export function cursorShape(term: XTerminal): { shape: CursorShape; blink: boolean } {
  const modes = core(term).coreService?.decPrivateModes;
  return { shape: modes?.cursorStyle ?? 'default', blink: modes?.cursorBlink ?? false };
}

export function mouseEncoding(term: XTerminal): MouseEncoding {
  const enc = core(term).coreMouseService?.activeEncoding;
  return enc === 'SGR' || enc === 'SGR_PIXELS' || enc === 'URXVT' || enc === 'UTF8' ? enc : 'DEFAULT';
}

/**
 * 0 none, 1 single, 2 double, 3 curly, 4 dotted, 5 dashed (SGR 4:n). xterm reports OSC 8 link
 * cells as dashed-underlined (its hover style); that is not the guest's attribute, so the style
 * is read from the raw extended bits instead when a link is present.
 */
export function underlineStyle(cell: IBufferCell): number {
  const c = cell as unknown as CellView;
  if (typeof c.getUnderlineStyle !== 'function') return cell.isUnderline() ? 1 : 0;
  const style = c.getUnderlineStyle();
  if (style === 0) return 0;
  if ((c.extended?.urlId ?? 0) !== 0 && c.extended?._ext !== undefined) {
    const raw = (c.extended._ext >>> 26) & 7;
    return raw >= 1 && raw <= 5 ? raw : 1;
  }
  return style >= 1 && style <= 5 ? style : 1;
}

/**
 * Underline colour as mode|value (same packing as fg/bg), 0 = default. Read raw: the public
 * getter falls back to the foreground colour, which would turn "default" into an explicit colour.
 */
export function underlineColor(cell: IBufferCell): number {
  const raw = (cell as unknown as CellView).extended?.underlineColor;
  if (raw === undefined || (raw & 0x3ffffff) === 0x3ffffff || (raw & 0x3000000) === 0) return 0;
  return raw >>> 0;
}

/**
 * Default colours and no attributes at all — most cells of most screens. xterm packs colours and
 * every attribute flag (including "has extended attributes": underline style/colour, links) into
 * fg/bg, so both being 0 means there is nothing more to read. Unknown layout: false (slow path).
 */
export function isPlainCell(cell: IBufferCell): boolean {
  const c = cell as unknown as CellView;
  return c.fg === 0 && c.bg === 0;
}

export function cellUrlId(cell: IBufferCell): number {
  return (cell as unknown as CellView).extended?.urlId ?? 0;
}

export function linkData(term: XTerminal, urlId: number): { id?: string; uri: string } | undefined {
  return core(term)._oscLinkService?.getLinkData(urlId);
}

/**
 * Have the emulator parse its next write at once instead of on a timer (≥ 1 ms in Node). xterm.js
 * does this after user input to keep keystroke echo fast; we also use it whenever nothing is queued.
 * (The public `input()` would also emit the keystroke on onData, i.e. send it to the guest twice.)
 */
export function parseNextWriteAtOnce(term: XTerminal): void {
  (
    term as unknown as { _core?: { _writeBuffer?: { handleUserInput?(): void } } }
  )._core?._writeBuffer?.handleUserInput?.();
}

interface BufferView {
  ybase?: number;
  scrollTop?: number;
  scrollBottom?: number;
  savedX?: number;
  savedY?: number;
  savedCharset?: object;
  tabs?: Record<number, boolean>;
}

interface StateCoreView {
  buffer?: BufferView;
  _charsetService?: { glevel?: number; _charsets?: Array<object | undefined> };
  _inputHandler?: { _windowTitle?: string };
}

function stateCore(term: XTerminal): StateCoreView {
  return (term as unknown as { _core?: StateCoreView })._core ?? {};
}

/** The active buffer's state that no public API exposes (defaults when a field moved). */
export function bufferState(term: XTerminal): {
  scrollTop: number;
  scrollBottom: number;
  savedX: number;
  savedRow: number;
  savedCharset: object | undefined;
  tabStops: number[];
} {
  const b = stateCore(term).buffer ?? {};
  const tabStops =
    b.tabs === undefined
      ? defaultTabStops(term.cols)
      : Object.keys(b.tabs)
          .map(Number)
          .filter((x) => b.tabs?.[x] === true);
  return {
    scrollTop: b.scrollTop ?? 0,
    scrollBottom: b.scrollBottom ?? term.rows - 1,
    savedX: b.savedX ?? 0,
    // xterm keeps the DECSC row in buffer coordinates; the screen row is what survives a replay.
    savedRow: Math.max(0, (b.savedY ?? 0) - (b.ybase ?? 0)),
    savedCharset: b.savedCharset,
    tabStops: tabStops.sort((a, c) => a - c),
  };
}

export function defaultTabStops(cols: number): number[] {
  const stops: number[] = [];
  for (let x = 0; x < cols; x += 8) stops.push(x);
  return stops;
}

/** G0–G3 (xterm's charset tables; undefined = US ASCII) and which of them is shifted into GL. */
export function charsetState(term: XTerminal): { charsets: Array<object | undefined>; glevel: number } {
  const cs = stateCore(term)._charsetService;
  return { charsets: [0, 1, 2, 3].map((g) => cs?._charsets?.[g]), glevel: cs?.glevel ?? 0 };
}

/** The title the guest last set with OSC 0/2 ('' if none). */
export function windowTitle(term: XTerminal): string {
  return stateCore(term)._inputHandler?._windowTitle ?? '';
}

/** Parse `data` synchronously, bypassing the write queue: for scratch terminals that probe xterm itself. */
export function parseNow(term: XTerminal, data: string): void {
  (term as unknown as { _core?: { _inputHandler?: { parse?(data: string): void } } })._core?._inputHandler?.parse?.(
    data,
  );
}
