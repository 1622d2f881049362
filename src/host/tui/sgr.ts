/**
 * SGR (Select Graphic Rendition) sequences for a style change. Palette colours stay palette
 * indexes (30–37/90–97, 38;5;n): the user's theme decides what "red" looks like, as in any terminal.
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
  A_UL_MASK,
  A_UL_SHIFT,
  CM_MASK,
  CM_P16,
  CM_P256,
  CM_RGB,
} from './frame.js';

function colour(c: number, base: 30 | 40): string {
  const mode = c & CM_MASK;
  const v = c & 0xffffff;
  if (mode === CM_P16) return v < 8 ? `${base + v}` : `${base + 60 + (v & 7)}`;
  if (mode === CM_P256) return `${base + 8};5;${v & 0xff}`;
  if (mode === CM_RGB) return `${base + 8};2;${(v >> 16) & 0xff};${(v >> 8) & 0xff};${v & 0xff}`;
  return `${base + 9}`;
}

/**
 * Underline colour (SGR 58) uses colons: a terminal that does not know 58 then skips one
 * parameter instead of misreading `58;5;196` as "blink".
 */
function underlineColour(c: number): string {
  const mode = c & CM_MASK;
  const v = c & 0xffffff;
  if (mode === CM_P16 || mode === CM_P256) return `58:5:${v & 0xff}`;
  if (mode === CM_RGB) return `58:2::${(v >> 16) & 0xff}:${(v >> 8) & 0xff}:${v & 0xff}`;
  return '59';
}

const FLAG_CODES: ReadonlyArray<readonly [number, string]> = [
  [A_BOLD, '1'],
  [A_DIM, '2'],
  [A_ITALIC, '3'],
  [A_BLINK, '5'],
  [A_INVERSE, '7'],
  [A_INVISIBLE, '8'],
  [A_STRIKE, '9'],
  [A_OVERLINE, '53'],
];

export interface SgrState {
  fg: number;
  bg: number;
  attrs: number;
  ul: number;
}

const NONE: SgrState = { fg: 0, bg: 0, attrs: 0, ul: 0 };

/**
 * The shortest-ish sequence taking the terminal from `from` to `to`. Turning anything off resets
 * with 0 and re-adds what remains: the specific "off" codes (22 clears both bold and dim, 24 all
 * underline styles) make a minimal diff fiddly for a few bytes' gain. Hot path (called per style
 * change per frame): plain string building, no arrays.
 */
export function sgrTransition(from: SgrState, to: SgrState): string {
  const removed = from.attrs & ~to.attrs;
  const base = removed !== 0 ? NONE : from;
  let p = removed !== 0 ? '0' : '';
  const added = to.attrs & ~base.attrs;
  if (added !== 0) {
    for (const [flag, code] of FLAG_CODES) if (added & flag) p += p ? `;${code}` : code;
    const ulStyle = (to.attrs & A_UL_MASK) >> A_UL_SHIFT;
    if (ulStyle !== 0 && (added & A_UL_MASK) !== 0) {
      const code = ulStyle === 1 ? '4' : `4:${ulStyle}`;
      p += p ? `;${code}` : code;
    }
  }
  if (to.fg !== base.fg) p += p ? `;${colour(to.fg, 30)}` : colour(to.fg, 30);
  if (to.bg !== base.bg) p += p ? `;${colour(to.bg, 40)}` : colour(to.bg, 40);
  if (to.ul !== base.ul) p += p ? `;${underlineColour(to.ul)}` : underlineColour(to.ul);
  return p === '' ? '' : `\x1b[${p}m`;
}
