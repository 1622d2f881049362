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
import { GUEST_UNICODE_VERSION, guestWidthProvider } from './cell-width.js';

const { Terminal } = xtermHeadless;

export type { XTerminal, IBufferCell };

export function createXterm(cols: number, rows: number, scrollback: number): XTerminal {
  // logLevel off: xterm logs parse errors with console.error, which would write over our screen.
  const term = new Terminal({ cols, rows, scrollback, allowProposedApi: true, logLevel: 'off' });
  // The guest's widths, not a Unicode version's (see cell-width.ts).
  term.unicode.register(guestWidthProvider);
  term.unicode.activeVersion = GUEST_UNICODE_VERSION;
  return term;
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
  (term as unknown as { _core?: { _writeBuffer?: { handleUserInput?(): void } } })._core?._writeBuffer?.handleUserInput?.();
}
