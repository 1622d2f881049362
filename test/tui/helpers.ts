/** Test helpers: a headless xterm playing "the user's terminal", fixture loading and screen dumps. */
import { readFileSync } from 'node:fs';
import { cellWidth } from '../../src/host/tui/cell-width.js';
import { Frame, LinkTable } from '../../src/host/tui/frame.js';
import { Renderer } from '../../src/host/tui/render.js';
import { Screen } from '../../src/host/tui/screen.js';
import {
  cellUrlId,
  createXterm,
  cursorShape,
  isCursorHidden,
  linkData,
  underlineColor,
  underlineStyle,
  type XTerminal,
} from '../../src/host/tui/xterm.js';

export function write(term: XTerminal, data: string | Uint8Array): Promise<void> {
  return new Promise((resolve) => {
    term.write(data, resolve);
  });
}

export function writeScreen(screen: Screen, data: string | Uint8Array): Promise<void> {
  return new Promise((resolve) => {
    screen.write(data, resolve);
  });
}

/**
 * Fixture format: readable text with escapes (\e or \x1b, \r, \n, \t, \uXXXX, \\); real newlines are
 * ignored so that sequences can be laid out on lines; lines starting with `#` are comments, and a
 * `# size COLSxROWS` comment sets the screen size.
 */
export function loadFixture(path: string): { cols: number; rows: number; data: string } {
  const raw = readFileSync(path, 'utf8');
  let cols = 40;
  let rows = 12;
  const parts: string[] = [];
  for (const line of raw.split('\n')) {
    const size = /^# size (\d+)x(\d+)/.exec(line);
    if (size) {
      cols = Number(size[1]);
      rows = Number(size[2]);
    }
    if (line.startsWith('#')) continue;
    parts.push(line);
  }
  return { cols, rows, data: unescape(parts.join('')) };
}

export function unescape(text: string): string {
  return text.replace(
    /\\(e|x([0-9a-fA-F]{2})|u\{([0-9a-fA-F]+)\}|u([0-9a-fA-F]{4})|r|n|t|a|\\)/g,
    (_m, kind: string, hex?: string, braced?: string, u4?: string) => {
      if (kind === 'e') return '\x1b';
      if (hex !== undefined) return String.fromCharCode(parseInt(hex, 16));
      if (braced !== undefined) return String.fromCodePoint(parseInt(braced, 16));
      if (u4 !== undefined) return String.fromCharCode(parseInt(u4, 16));
      return ({ r: '\r', n: '\n', t: '\t', a: '\x07', '\\': '\\' } as Record<string, string>)[kind] ?? '';
    },
  );
}

const FLAGS = [
  ['b', 'isBold'],
  ['d', 'isDim'],
  ['i', 'isItalic'],
  ['k', 'isBlink'],
  ['r', 'isInverse'],
  ['h', 'isInvisible'],
  ['s', 'isStrikethrough'],
  ['o', 'isOverline'],
] as const;

function colour(mode: number, value: number): string {
  if (mode === 0) return '-';
  if (mode === 0x1000000) return `p${value}`;
  if (mode === 0x2000000) return `x${value}`;
  return `#${value.toString(16).padStart(6, '0')}`;
}

/**
 * One line per row: the text, then the runs of non-default attributes as `col+len:fg/bg/flags`.
 * Palette and RGB colours are distinguished (p = 16-colour, x = 256-colour, # = truecolor).
 */
export function dumpTerminal(term: XTerminal, firstRow = 0, rowCount = term.rows): string {
  const buf = term.buffer.active;
  const cell = buf.getNullCell();
  const lines: string[] = [];
  for (let y = firstRow; y < firstRow + rowCount; y++) {
    const line = buf.getLine(buf.baseY + y);
    if (line === undefined) continue;
    let text = '';
    const runs: string[] = [];
    let run: { start: number; len: number; key: string } | undefined;
    for (let x = 0; x < term.cols; x++) {
      line.getCell(x, cell);
      const w = cell.getWidth();
      // A zero-width cell not joined to a wide character (xterm keeps e.g. a lone ZWJ that way)
      // shows as a blank column.
      // Likewise half a wide character (cut by a resize, or its right half overwritten).
      const orphan =
        (w === 0 && (x === 0 || line.getCell(x - 1)?.getWidth() !== 2)) ||
        (w === 2 && (x === term.cols - 1 || line.getCell(x + 1)?.getWidth() !== 0));
      // And marks with no base character (joined onto an empty cell), which the Screen draws blank.
      if (orphan || (w !== 0 && cellWidth(cell.getChars().codePointAt(0) ?? 0x20) === 0)) text += ' ';
      else if (w !== 0) text += cell.getChars() || ' ';
      line.getCell(x, cell);
      let flags = '';
      for (const [c, m] of FLAGS) if (cell[m]()) flags += c;
      const ul = underlineStyle(cell);
      if (ul) {
        flags += `u${ul}`;
        const uc = underlineColor(cell);
        if (uc !== 0) flags += `(${colour(uc & 0x3000000, uc & 0xffffff)})`;
      }
      if (w === 2 && !orphan) flags += 'W';
      const key = `${colour(cell.getFgColorMode(), cell.getFgColor())}/${colour(cell.getBgColorMode(), cell.getBgColor())}/${flags}`;
      if (run && run.key === key) run.len++;
      else {
        if (run && run.key !== '-/-/') runs.push(`${run.start}+${run.len}:${run.key}`);
        run = { start: x, len: 1, key };
      }
    }
    if (run && run.key !== '-/-/') runs.push(`${run.start}+${run.len}:${run.key}`);
    lines.push(`${String(y).padStart(2)}|${text.trimEnd()}${runs.length ? `  ${runs.join(' ')}` : ''}`);
  }
  const { shape, blink } = cursorShape(term);
  lines.push(
    `cursor ${buf.cursorX},${buf.cursorY - firstRow} ${isCursorHidden(term) ? 'hidden' : 'visible'} ${shape}${blink ? ' blink' : ''} buffer=${buf.type}`,
  );
  return lines.join('\n');
}

/** A guest Screen rendered into an outer xterm through a Renderer: the full display pipeline. */
export class Pipeline {
  readonly screen: Screen;
  readonly outer: XTerminal;
  readonly links = new LinkTable();
  readonly renderer: Renderer;
  frame: Frame;
  bytesOut = 0;

  constructor(
    cols: number,
    rows: number,
    readonly top = 0,
    scrollback = 1000,
  ) {
    this.screen = new Screen(cols, rows, scrollback);
    this.outer = createXterm(cols, rows + top, 1000);
    this.renderer = new Renderer(this.links, { hyperlinks: true, synchronized: true });
    this.frame = new Frame(cols, rows + top);
  }

  async feed(data: string | Uint8Array): Promise<void> {
    await writeScreen(this.screen, data);
  }

  /** Paint + render + play the ANSI into the outer terminal; returns the ANSI. */
  async frameOut(): Promise<string> {
    this.screen.paint(this.frame, this.top, this.links);
    const ansi = this.renderer.render(this.frame);
    this.bytesOut += ansi.length;
    await write(this.outer, ansi);
    return ansi;
  }

  dispose(): void {
    this.screen.dispose();
    this.outer.dispose();
  }
}

/** The OSC 8 target of a cell in an xterm, via the same private service the Screen uses. */
export function linkAt(term: XTerminal, x: number, y: number): string | undefined {
  const cell = term.buffer.active.getLine(term.buffer.active.baseY + y)?.getCell(x);
  if (cell === undefined) return undefined;
  const id = cellUrlId(cell);
  return id === 0 ? undefined : linkData(term, id)?.uri;
}
