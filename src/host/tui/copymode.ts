/**
 * Scrollback / copy mode (prefix [): a cursor over the tab's buffer, vi-style keys, search, and a
 * stream selection copied to the clipboard with OSC 52.
 *
 * Positions are buffer line indexes. The guest keeps writing meanwhile; when the scrollback is full
 * the emulator drops the oldest lines and every index shifts, so positions are kept relative to a
 * marker registered on entry, which the emulator moves along with its lines.
 */
import { A_INVERSE, type Frame } from './frame.js';
import type { Key } from './keys.js';
import type { Screen } from './screen.js';

export type CopyResult = { kind: 'stay' } | { kind: 'exit' } | { kind: 'copy'; text: string };

interface Pos {
  x: number;
  y: number;
}

export class CopyMode {
  /** First buffer line shown, in entry coordinates. */
  private top: number;
  private cursor: Pos;
  private anchor: Pos | undefined;
  private search: { query: string; editing: boolean; backward: boolean } | undefined;
  message = '';
  private readonly marker: { line: number; isDisposed: boolean; dispose(): void } | undefined;
  private readonly markerLine: number;

  constructor(
    private readonly screen: Screen,
    private rows: number,
  ) {
    const buf = screen.term.buffer.active;
    this.top = buf.baseY;
    this.cursor = { x: buf.cursorX, y: buf.baseY + buf.cursorY };
    this.markerLine = buf.baseY;
    this.marker = screen.term.registerMarker(-buf.cursorY) ?? undefined;
  }

  /** Lines dropped from the top of the scrollback since entry (indexes shift by this much). */
  private get shift(): number {
    if (this.marker === undefined) return 0;
    if (this.marker.isDisposed) return -this.markerLine - 1;
    return this.marker.line - this.markerLine;
  }

  /** First buffer line to paint (live coordinates). */
  get viewTop(): number {
    return Math.max(0, Math.min(this.top + this.shift, this.screen.baseY));
  }

  get label(): string {
    // Show the key that started the search: '/' searches back (older lines), '?' forward.
    if (this.search?.editing) return `${this.search.backward ? '/' : '?'}${this.search.query}`;
    const from = this.screen.baseY - this.viewTop;
    return `COPY ${from > 0 ? `-${from}` : 'bottom'}/${this.screen.baseY}${this.anchor ? ' SEL' : ''}`;
  }

  setRows(rows: number): void {
    this.rows = rows;
    this.follow();
  }

  dispose(): void {
    this.marker?.dispose();
  }

  handleKey(key: Key): CopyResult {
    this.message = '';
    if (this.search?.editing) return this.searchKey(key);
    const page = Math.max(1, this.rows - 1);
    const half = Math.max(1, Math.floor(this.rows / 2));
    switch (key) {
      case 'q':
      case 'C-c':
      case 'C-]':
        return { kind: 'exit' };
      case 'Escape':
        if (this.anchor) this.anchor = undefined;
        else return { kind: 'exit' };
        break;
      case 'k':
      case 'Up':
        this.moveY(-1);
        break;
      case 'j':
      case 'Down':
      case 'Enter':
        if (key !== 'Enter') {
          this.moveY(1);
          break;
        }
        return this.copy();
      case 'h':
      case 'Left':
        this.cursor.x = Math.max(0, this.cursor.x - 1);
        break;
      case 'l':
      case 'Right':
        this.cursor.x = Math.min(this.screen.cols - 1, this.cursor.x + 1);
        break;
      case '0':
      case 'Home':
        this.cursor.x = 0;
        break;
      case '$':
      case 'End':
        this.cursor.x = Math.max(0, this.lineText(this.cursor.y).length - 1);
        break;
      case 'C-u':
        this.moveY(-half);
        break;
      case 'C-d':
        this.moveY(half);
        break;
      case 'C-b':
      case 'PageUp':
        this.scroll(-page);
        break;
      case 'C-f':
      case 'PageDown':
        this.scroll(page);
        break;
      case ' ':
        this.anchor = this.anchor ? undefined : { ...this.cursor };
        break;
      case 'g':
        this.moveY(-Infinity);
        break;
      case 'G':
        this.moveY(Infinity);
        break;
      case 'v':
        this.anchor = this.anchor ? undefined : { ...this.cursor };
        break;
      case 'y':
        return this.copy();
      case '/':
        this.search = { query: '', editing: true, backward: true };
        break;
      case '?':
        this.search = { query: '', editing: true, backward: false };
        break;
      case 'n':
        this.find(this.search?.backward ?? true);
        break;
      case 'N':
        this.find(!(this.search?.backward ?? true));
        break;
      default:
        break;
    }
    return { kind: 'stay' };
  }

  /** Highlight the selection and place a block cursor; call after painting lines from viewTop. */
  decorate(frame: Frame, frameTop: number): void {
    const top = this.viewTop;
    const shift = this.shift;
    const cur = { x: this.cursor.x, y: this.cursor.y + shift };
    if (this.anchor) {
      const a = { x: this.anchor.x, y: this.anchor.y + shift };
      const [s, e] = order(a, cur);
      for (let y = Math.max(s.y, top); y <= Math.min(e.y, top + this.rows - 1); y++) {
        const x0 = y === s.y ? s.x : 0;
        const x1 = y === e.y ? e.x : frame.cols - 1;
        const row = (frameTop + y - top) * frame.cols;
        for (let x = x0; x <= x1 && x < frame.cols; x++) frame.attrs[row + x] = (frame.attrs[row + x] ?? 0) ^ A_INVERSE;
      }
    }
    frame.cursor = {
      x: cur.x,
      y: frameTop + cur.y - top,
      visible: cur.y >= top && cur.y < top + this.rows,
      shape: 'block',
      blink: false,
    };
  }

  private lineText(entryY: number): string {
    return this.screen.lineText(entryY + this.shift);
  }

  private moveY(dy: number): void {
    const maxY = this.screen.baseY + this.screen.rows - 1 - this.shift;
    const minY = -this.shift;
    this.cursor.y = Math.max(minY, Math.min(maxY, this.cursor.y + dy));
    this.follow();
  }

  /** Page keys move the view and the cursor together, as in tmux and less. */
  private scroll(dy: number): void {
    const minTop = -this.shift;
    const maxTop = this.screen.baseY - this.shift;
    const top = Math.max(minTop, Math.min(maxTop, this.top + dy));
    const moved = top - this.top;
    this.top = top;
    this.moveY(moved === 0 ? dy : moved);
  }

  /** Scroll the view so the cursor stays on screen. */
  private follow(): void {
    if (this.cursor.y < this.top) this.top = this.cursor.y;
    if (this.cursor.y >= this.top + this.rows) this.top = this.cursor.y - this.rows + 1;
    this.top = Math.max(-this.shift, Math.min(this.top, this.screen.baseY - this.shift));
  }

  private searchKey(key: Key): CopyResult {
    const search = this.search;
    if (!search) return { kind: 'stay' };
    if (key === 'Escape' || key === 'C-c') this.search = undefined;
    else if (key === 'Enter') {
      search.editing = false;
      this.find(search.backward);
    } else if (key === 'Backspace') search.query = search.query.slice(0, -1);
    else if (key.length === String.fromCodePoint(key.codePointAt(0) ?? 0).length && key >= ' ') search.query += key; // one character, not a key name
    return { kind: 'stay' };
  }

  /** Next match of the query before (backward) or after the cursor; smart case. */
  private find(backward: boolean): void {
    const query = this.search?.query;
    if (!query) return;
    const fold = query === query.toLowerCase();
    const q = fold ? query : query;
    const norm = (s: string): string => (fold ? s.toLowerCase() : s);
    const first = -this.shift;
    const last = this.screen.baseY + this.screen.rows - 1 - this.shift;
    const startY = this.cursor.y;
    for (let i = 0; i <= last - first + 1; i++) {
      const y = backward ? startY - i : startY + i;
      if (y < first || y > last) break;
      const text = norm(this.lineText(y));
      let x: number;
      if (i === 0) x = backward ? text.lastIndexOf(q, this.cursor.x - 1) : text.indexOf(q, this.cursor.x + 1);
      else x = backward ? text.lastIndexOf(q) : text.indexOf(q);
      if (i === 0 && backward && this.cursor.x === 0) x = -1;
      if (x >= 0) {
        this.cursor = { x, y };
        this.follow();
        return;
      }
    }
    this.message = `not found: ${query}`;
  }

  private copy(): CopyResult {
    const a = this.anchor ?? { x: 0, y: this.cursor.y };
    const b = this.anchor ? this.cursor : { x: this.screen.cols - 1, y: this.cursor.y };
    const [s, e] = order(a, b);
    let text = '';
    for (let y = s.y; y <= e.y; y++) {
      const line = this.lineText(y);
      const x0 = y === s.y ? s.x : 0;
      const x1 = y === e.y ? e.x + 1 : line.length;
      // Lines the guest wrapped (not ended) join without a newline, as they were written.
      if (y > s.y && !this.screen.isWrapped(y + this.shift)) text = text.trimEnd() + '\n';
      text += line.slice(x0, x1);
    }
    return { kind: 'copy', text: text.trimEnd() };
  }
}

function order(a: Pos, b: Pos): [Pos, Pos] {
  return a.y < b.y || (a.y === b.y && a.x <= b.x) ? [a, b] : [b, a];
}
