/**
 * Display width of text the TUI itself draws (status line, overlays, prompts), by the same table the
 * emulator uses for guest text (cell-width.ts), so that names the guest chose line up either way.
 */
import { cellWidth } from './cell-width.js';

/** 0 for combining marks, zero-width joiners/selectors and controls, 2 for wide, else 1. */
export const codePointWidth = cellWidth;

export function stringWidth(text: string): number {
  let w = 0;
  for (const ch of text) w += codePointWidth(ch.codePointAt(0) ?? 0);
  return w;
}

/** Drop C0/C1 controls so that text we draw can never smuggle an escape sequence to the terminal. */
export function sanitize(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '');
}

/** Cut to at most `width` cells, ending with `…` if anything was cut. */
export function truncate(text: string, width: number): string {
  if (width <= 0) return '';
  if (stringWidth(text) <= width) return text;
  let out = '';
  let w = 0;
  for (const ch of text) {
    const cw = codePointWidth(ch.codePointAt(0) ?? 0);
    if (w + cw > width - 1) break;
    out += ch;
    w += cw;
  }
  return out + '…';
}
