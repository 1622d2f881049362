/**
 * Which cells the user's terminal may advance over by a different number of columns than the guest
 * counted. The emulator counts by the guest's wcwidth (cell-width.ts); the outer terminal has its own
 * table (often an older or newer Unicode) and may join grapheme clusters (tmux draws 👨‍👩‍👧 in 2
 * columns where glibc counts 6). After such a cell the renderer must not move relatively.
 */
import { cellWidth } from './cell-width.js';

/** Wide in every wcwidth since Unicode 3 (CJK, Hangul, kana, fullwidth forms): terminals agree. */
function settledWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0x303e) ||
    (cp >= 0x3041 && cp <= 0x33ff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0xa000 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  );
}

/**
 * True for a cluster (more than one code point: combining marks, ZWJ sequences, variation
 * selectors, flags) and for a wide character outside the settled ranges (emoji above all, whose
 * widths changed in Unicode 9 and grow with every version). Narrow single code points are settled.
 */
export function outerMayMiscount(chars: string): boolean {
  const c0 = chars.charCodeAt(0);
  if (chars.length === 1 && c0 < 0x1100) return false; // the common case, first
  const cp = chars.codePointAt(0) ?? 0;
  if (chars.length > (cp > 0xffff ? 2 : 1)) return true;
  return cellWidth(cp) === 2 && !settledWide(cp);
}
