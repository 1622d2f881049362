/**
 * How many cells a code point takes: the guest's answer, not a Unicode version's.
 *
 * Programs in the guest (bash/readline, vim, less) place the cursor by their C library's wcwidth(),
 * so the emulator that mirrors their screen must count the same or every line edit drifts. The table
 * is glibc's own (guest-widths.ts, generated from the guest image's glibc); the TUI's own text uses
 * it too, so there is one width per code point in the whole program.
 */
import { DOUBLE_WIDTH, ZERO_WIDTH } from './guest-widths.js';
import type { IUnicodeVersionProvider } from '@xterm/headless';

const BMP = new Uint8Array(0x10000).fill(1);
BMP.fill(0, 0, 0x20);
BMP.fill(0, 0x7f, 0xa0);
/** Flattened [first, last, first, last, …] pairs above the BMP, for binary search. */
const astralZero: number[] = [];
const astralDouble: number[] = [];

function load(pairs: readonly number[], width: 0 | 2, astral: number[]): void {
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    const first = pairs[i] ?? 0;
    const last = pairs[i + 1] ?? 0;
    if (first < 0x10000) BMP.fill(width, first, Math.min(last, 0xffff) + 1);
    if (last >= 0x10000) astral.push(Math.max(first, 0x10000), last);
  }
}
load(ZERO_WIDTH, 0, astralZero);
load(DOUBLE_WIDTH, 2, astralDouble);

function inPairs(pairs: readonly number[], cp: number): boolean {
  let lo = 0;
  let hi = (pairs.length >> 1) - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cp < (pairs[2 * mid] ?? 0)) hi = mid - 1;
    else if (cp > (pairs[2 * mid + 1] ?? 0)) lo = mid + 1;
    else return true;
  }
  return false;
}

/** 0 (combining, joiners, selectors, controls), 1 or 2 cells, as the guest's wcwidth() says. */
export function cellWidth(cp: number): 0 | 1 | 2 {
  if (cp < 0x10000) return (BMP[cp] ?? 1) as 0 | 1 | 2;
  if (inPairs(astralDouble, cp)) return 2;
  return inPairs(astralZero, cp) ? 0 : 1;
}

/** The name the provider registers under in xterm's unicode service. */
export const GUEST_UNICODE_VERSION = 'guest-glibc';

/**
 * xterm.js's packing of a print state (UnicodeService.createPropertyValue): width in bits 1–2,
 * "joins the previous cell" in bit 0. Private to xterm; the golden tests catch a change.
 */
const joins = (width: number): number => ((width & 3) << 1) | 1;
const starts = (width: number): number => (width & 3) << 1;

/**
 * Width per code point, never per grapheme cluster: glibc counts 👨‍👩‍👧 as 2+0+2+0+2 and ❤️ as 1+0,
 * and so does the guest's cursor. A zero-width code point always joins the cell before the cursor,
 * also after a cursor move or an SGR (xterm's own providers only join within one run of text and
 * otherwise give the mark a cell of its own, one column off from the guest and from tmux).
 */
export const guestWidthProvider: IUnicodeVersionProvider = {
  version: GUEST_UNICODE_VERSION,
  wcwidth: cellWidth,
  charProperties(cp: number, preceding: number): number {
    const width = cellWidth(cp);
    // Keep the joined cell's width, so that xterm advances the cursor by width − previous width = 0.
    return width === 0 ? joins((preceding >> 1) & 3) : starts(width);
  },
};
