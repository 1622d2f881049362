/**
 * The terminal state a screen dump does not carry, as the VT sequences that recreate it.
 *
 * A named VM's supervisor replays a shell's screen to every client that attaches (serialize addon).
 * The cells alone are not the terminal: a hidden cursor, SGR mouse encoding, the scroll region, origin
 * mode, line-drawing charsets, tab stops, the DECSC cursor and the title are state too, and a program
 * (vim, htop, a pager) that set them once never sets them again. Appended after the dump (taken with
 * `excludeModes`: its own mode list misses half of these and sets origin mode after the cursor, which
 * homes it), this puts the client's emulator into the state the supervisor's emulator is in.
 *
 * Not restored: the SGR attributes saved with DECSC (its position and charset are), the title stack,
 * and a pending wrap at the right margin (the cursor is placed on the last column).
 */
import {
  bufferState,
  charsetState,
  createXterm,
  cursorShape,
  defaultTabStops,
  isCursorHidden,
  mouseEncoding,
  parseNow,
  windowTitle,
  type XTerminal,
} from './xterm.js';
import { sanitize } from './width.js';

const MOUSE_TRACKING = { none: 0, x10: 9, vt200: 1000, drag: 1002, any: 1003 } as const;
const MOUSE_ENCODING = { DEFAULT: 0, UTF8: 1005, SGR: 1006, URXVT: 1015, SGR_PIXELS: 1016 } as const;
const SHAPE = { block: 2, underline: 4, bar: 6 } as const;
const GL_SHIFT = ['', '\x0e', '\x1bn', '\x1bo'] as const;
const DESIGNATE = ['(', ')', '*', '+'] as const;
/** Charset designators xterm knows (its CHARSETS table); B (US ASCII) is the default. */
const DESIGNATORS = '0AB4C5RQKYE6ZH7=`';

let designatorOf: Map<object, string> | undefined;

/** xterm's charset tables are shared objects: learn which designator selects which, once. */
function designator(charset: object | undefined): string {
  if (charset === undefined) return 'B';
  if (designatorOf === undefined) {
    designatorOf = new Map();
    const probe = createXterm(10, 1, 0);
    for (const d of DESIGNATORS) {
      parseNow(probe, `\x1b(${d}`);
      const table = charsetState(probe).charsets[0];
      if (table !== undefined && !designatorOf.has(table)) designatorOf.set(table, d);
    }
    probe.dispose();
  }
  return designatorOf.get(charset) ?? 'B';
}

const cup = (row: number, col: number): string => `\x1b[${row + 1};${col + 1}H`;

export function terminalStateSequence(term: XTerminal): string {
  const buf = bufferState(term);
  const cs = charsetState(term);
  const m = term.modes;
  let out = '';

  const tabs = buf.tabStops.join(',');
  if (tabs !== defaultTabStops(term.cols).join(',')) {
    out += '\x1b[3g';
    for (const x of buf.tabStops) out += `${cup(0, x)}\x1bH`;
  }

  // DECSC also saves the charset in GL: shift the saved one in while saving, before the real ones.
  if (buf.savedX !== 0 || buf.savedRow !== 0 || buf.savedCharset !== undefined) {
    out += `\x1b(${designator(buf.savedCharset)}\x0f${cup(Math.min(buf.savedRow, term.rows - 1), Math.min(buf.savedX, term.cols - 1))}\x1b7`;
    if (buf.savedCharset !== undefined) out += '\x1b(B';
  }
  cs.charsets.forEach((charset, g) => {
    if (charset !== undefined) out += `\x1b${DESIGNATE[g]}${designator(charset)}`;
  });
  out += GL_SHIFT[cs.glevel] ?? '';

  if (buf.scrollTop !== 0 || buf.scrollBottom !== term.rows - 1)
    out += `\x1b[${buf.scrollTop + 1};${buf.scrollBottom + 1}r`;

  if (m.applicationCursorKeysMode) out += '\x1b[?1h';
  if (m.applicationKeypadMode) out += '\x1b=';
  if (m.bracketedPasteMode) out += '\x1b[?2004h';
  if (m.insertMode) out += '\x1b[4h';
  if (m.originMode) out += '\x1b[?6h';
  if (m.reverseWraparoundMode) out += '\x1b[?45h';
  if (m.sendFocusMode) out += '\x1b[?1004h';
  if (!m.wraparoundMode) out += '\x1b[?7l';
  const tracking = MOUSE_TRACKING[m.mouseTrackingMode];
  if (tracking !== 0) out += `\x1b[?${tracking}h`;
  const encoding = MOUSE_ENCODING[mouseEncoding(term)];
  if (encoding !== 0) out += `\x1b[?${encoding}h`;

  // Last, as every sequence above may move it; origin mode counts rows from the region's top.
  const b = term.buffer.active;
  out += cup(b.cursorY - (m.originMode ? buf.scrollTop : 0), Math.min(b.cursorX, term.cols - 1));

  const { shape, blink } = cursorShape(term);
  if (shape !== 'default') out += `\x1b[${SHAPE[shape] - (blink ? 1 : 0)} q`;
  if (isCursorHidden(term)) out += '\x1b[?25l';
  const title = sanitize(windowTitle(term));
  if (title !== '') out += `\x1b]2;${title}\x07`;
  return out;
}
