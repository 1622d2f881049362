/**
 * tmux as the reference emulator and as the user's terminal (issue #13).
 *
 * 1. Fixtures marked `# reference tmux` are played raw into a tmux pane: tmux (which counts by the
 *    host's glibc wcwidth, the guest's glibc version) must show the same text and cursor as our
 *    emulator, whose dump is the reviewed golden (golden.test.ts). So each golden is checked against an
 *    independent emulator, not only generated.
 * 2. The renderer's output is played into a tmux pane and must look exactly like drawing every cell of
 *    the guest screen at its absolute position: relative moves may never depend on how tmux counts a
 *    cell (tmux joins 👨‍👩‍👧 into 2 columns where the guest counts 6).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cellWidth } from '../../src/host/tui/cell-width.js';
import type { Screen } from '../../src/host/tui/screen.js';
import { loadFixture, Pipeline } from './helpers.js';

const dir = join(import.meta.dirname, 'fixtures');
const socket = `vg-tui-ref-${process.pid}`;
const work = mkdtempSync(join(tmpdir(), 'vg-tui-ref-'));
let runs = 0;

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Plays `bytes` into a fresh cols×rows pane; returns its text rows (trailing blanks cut) and cursor. */
async function inTmux(bytes: string, cols: number, rows: number): Promise<{ text: string[]; cursor: string }> {
  const n = runs++;
  const file = join(work, `in-${n}`);
  const done = join(work, `done-${n}`);
  writeFileSync(file, bytes);
  const session = `r${n}`;
  // -opost: the bytes reach tmux exactly as written (no \n → \r\n).
  tmux(
    'new-session',
    '-d',
    '-s',
    session,
    '-x',
    String(cols),
    '-y',
    String(rows),
    `stty -opost -echo; cat '${file}'; touch '${done}'; exec sleep 600`,
  );
  const deadline = Date.now() + 10_000;
  while (!existsSync(done)) {
    if (Date.now() > deadline) throw new Error(`tmux did not play ${file}`);
    await new Promise((r) => setTimeout(r, 30));
  }
  await new Promise((r) => setTimeout(r, 100)); // tmux parses what cat wrote asynchronously
  const text = tmux('capture-pane', '-p', '-t', session)
    .replace(/\n$/, '')
    .split('\n')
    .map((l) => l.trimEnd());
  const cursor = tmux('display', '-p', '-t', session, '#{cursor_x},#{cursor_y}').trim();
  tmux('kill-session', '-t', session);
  return { text, cursor };
}

/** A cell's text as shown: marks joined onto an empty cell have no base and show nothing (Screen.paint). */
function shown(chars: string): string {
  return chars === '' || cellWidth(chars.codePointAt(0) ?? 0x20) === 0 ? ' ' : chars;
}

function screenText(screen: Screen): string[] {
  const out: string[] = [];
  const buf = screen.term.buffer.active;
  for (let y = 0; y < screen.rows; y++) {
    const line = buf.getLine(buf.baseY + y);
    let text = '';
    for (let x = 0; line !== undefined && x < screen.cols; x++) {
      const cell = line.getCell(x);
      if (cell !== undefined && cell.getWidth() !== 0) text += shown(cell.getChars());
    }
    out.push(text.trimEnd());
  }
  return out;
}

/** The guest screen drawn cell by cell, each at its absolute position (the renderer with no optimisation). */
function absoluteDrawing(screen: Screen): string {
  let out = '\x1b[?7l\x1b[H\x1b[2J';
  const buf = screen.term.buffer.active;
  for (let y = 0; y < screen.rows; y++) {
    const line = buf.getLine(buf.baseY + y);
    for (let x = 0; line !== undefined && x < screen.cols; x++) {
      const cell = line.getCell(x);
      const chars = shown(cell?.getChars() ?? '');
      if (cell === undefined || cell.getWidth() === 0 || chars === ' ') continue;
      out += `\x1b[${y + 1};${x + 1}H${chars}`;
    }
  }
  return out;
}

afterAll(() => {
  try {
    tmux('kill-server');
  } catch {
    /* no session left */
  }
  rmSync(work, { recursive: true, force: true });
});

describe('golden screens agree with tmux as a reference emulator', () => {
  const referenced = readdirSync(dir).filter(
    (f) => f.endsWith('.vt') && readFileSync(join(dir, f), 'utf8').includes('\n# reference tmux\n'),
  );

  it('has referenced fixtures', () => {
    expect(referenced.length).toBeGreaterThanOrEqual(2);
  });

  for (const file of referenced) {
    it(`${basename(file, '.vt')}: tmux shows our emulator's text and cursor`, async () => {
      const fx = loadFixture(join(dir, file));
      const p = new Pipeline(fx.cols, fx.rows);
      await p.feed(fx.data);
      const ref = await inTmux(fx.data, fx.cols, fx.rows);
      expect(screenText(p.screen)).toEqual(ref.text);
      const buf = p.screen.term.buffer.active;
      expect(`${buf.cursorX},${buf.cursorY}`).toBe(ref.cursor);
      p.dispose();
    });
  }
});

describe("the renderer in tmux as the user's terminal", () => {
  for (const file of ['emoji-new.vt', 'combining-move.vt', 'zwj-family.vt', 'wide.vt']) {
    it(`${basename(file, '.vt')}: looks the same as drawing every cell absolutely`, async () => {
      const fx = loadFixture(join(dir, file));
      const p = new Pipeline(fx.cols, fx.rows);
      await p.feed(fx.data);
      const ansi = await p.frameOut();
      const ours = await inTmux(ansi, fx.cols, fx.rows);
      const ideal = await inTmux(absoluteDrawing(p.screen), fx.cols, fx.rows);
      expect(ours.text).toEqual(ideal.text);
      p.dispose();
    });
  }

  it('puts # in column 16 after a ZWJ family that tmux draws in 2 cells', async () => {
    const p = new Pipeline(20, 2);
    await p.feed('\x1b[H\x1b[2J\u{1F468}\u200d\u{1F469}\u200d\u{1F467}|\x1b[1;16H#');
    const shown = await inTmux(`${await p.frameOut()}\x1b[1;16HX`, 20, 2);
    // Our # and the X drawn at column 16 directly must be the same cell.
    expect(shown.text[0]).not.toContain('#');
    expect(shown.text[0]?.endsWith('X')).toBe(true);
    p.dispose();
  });

  it("erases every row after sixty 🥲 and a clear (no row wrapped behind the renderer's back)", async () => {
    const p = new Pipeline(80, 6);
    let ansi = '';
    await p.feed(`${'\u{1F972}'.repeat(60)}|x\r\n`);
    ansi += await p.frameOut();
    await p.feed('\x1b[H\x1b[2Jok');
    ansi += await p.frameOut();
    const shown = await inTmux(ansi, 80, 6);
    expect(shown.text).toEqual(['ok', '', '', '', '', '']);
    p.dispose();
  });
});
