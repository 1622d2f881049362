/**
 * Golden screens: each fixture is parsed by the guest-side emulator (Screen), rendered by our
 * Renderer and replayed into a second headless xterm that plays the user's terminal. The user's
 * terminal must then show exactly the guest screen (text, widths, colours, styles, cursor), and that
 * screen must match the reviewed golden dump next to the fixture.
 */
import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createXterm } from '../../src/host/tui/xterm.js';
import { dumpTerminal, linkAt, loadFixture, Pipeline, write } from './helpers.js';

const dir = join(import.meta.dirname, 'fixtures');
/**
 * toMatchFileSnapshot writes a missing golden and passes, so a fixture whose golden was never reviewed
 * (or was deleted) would test nothing. A new golden is written only when asked for.
 */
const WRITE_NEW = process.env['VG_WRITE_GOLDEN'] === '1';
const WRITE_HINT = 'write new ones with VG_WRITE_GOLDEN=1 npx vitest run test/tui/golden.test.ts, then review them';
const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith('.vt'))
  .sort();

/** Deterministic split points so that failures reproduce. */
function chunks(data: string, seed: number): string[] {
  const out: string[] = [];
  let s = seed;
  let i = 0;
  while (i < data.length) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const n = 1 + (s % 17);
    out.push(data.slice(i, i + n));
    i += n;
  }
  return out;
}

describe('golden screens', () => {
  it('has fixtures, each with its reviewed golden dump', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(10);
    const missing = fixtures.map((f) => `${basename(f, '.vt')}.golden`).filter((g) => !existsSync(join(dir, g)));
    expect(missing, `fixtures without a golden dump; ${WRITE_HINT}`).toEqual(WRITE_NEW ? missing : []);
  });

  for (const file of fixtures) {
    const name = basename(file, '.vt');
    const fx = loadFixture(join(dir, file));

    it(`${name}: one frame reproduces the guest screen and matches the golden dump`, async () => {
      const p = new Pipeline(fx.cols, fx.rows);
      await p.feed(fx.data);
      await p.frameOut();
      const guest = dumpTerminal(p.screen.term);
      expect(dumpTerminal(p.outer).replace(/ buffer=\w+$/, '')).toBe(guest.replace(/ buffer=\w+$/, ''));
      const golden = join(dir, `${name}.golden`);
      expect(WRITE_NEW || existsSync(golden), `${golden} is missing; ${WRITE_HINT}`).toBe(true);
      await expect(guest + '\n').toMatchFileSnapshot(golden);
      p.dispose();
    });

    it(`${name}: many small frames (diff path) end on the same screen`, async () => {
      const p = new Pipeline(fx.cols, fx.rows);
      for (const part of chunks(fx.data, name.length)) {
        await p.feed(part);
        await p.frameOut();
      }
      expect(dumpTerminal(p.outer).replace(/ buffer=\w+$/, '')).toBe(
        dumpTerminal(p.screen.term).replace(/ buffer=\w+$/, ''),
      );
      p.dispose();
    });

    it(`${name}: with a status line on top, rows are offset by one`, async () => {
      const p = new Pipeline(fx.cols, fx.rows, 1);
      for (const part of chunks(fx.data, 7)) {
        await p.feed(part);
        await p.frameOut();
      }
      const outer = dumpTerminal(p.outer, 1, fx.rows).split('\n');
      const guest = dumpTerminal(p.screen.term).split('\n');
      // Row labels differ by the offset; compare contents.
      const strip = (l: string): string => l.replace(/^ *\d+\|/, '').replace(/ buffer=\w+$/, '');
      expect(outer.map(strip)).toEqual(guest.map(strip));
      p.dispose();
    });
  }
});

describe('renderer output', () => {
  it('keeps palette colours as palette SGR, never RGB', async () => {
    let ansi = '';
    for (const name of ['colors256.vt', 'colors16.vt']) {
      const p = new Pipeline(40, 8);
      await p.feed(loadFixture(join(dir, name)).data);
      ansi += await p.frameOut();
      p.dispose();
    }
    expect(ansi).toContain('38;5;196');
    expect(ansi).toContain('48;5;17');
    // eslint-disable-next-line no-control-regex
    expect(ansi).toMatch(/\x1b\[[0-9;]*91[;m]/); // bright red as 91, not 38;5;9
    expect(ansi).not.toMatch(/[34]8;2;/);
  });

  it('keeps truecolor as truecolor', async () => {
    const p = new Pipeline(40, 5);
    await p.feed('\x1b[38;2;1;2;3mx');
    expect(await p.frameOut()).toContain('38;2;1;2;3');
    p.dispose();
  });

  it('passes OSC 8 hyperlinks to the outer terminal', async () => {
    const p = new Pipeline(30, 3);
    await p.feed(loadFixture(join(dir, 'hyperlink.vt')).data);
    const ansi = await p.frameOut();
    expect(ansi).toContain('\x1b]8;id=doc;https://example.com/doc\x1b\\');
    expect(linkAt(p.outer, 5, 0)).toBe('https://example.com/doc');
    expect(linkAt(p.outer, 0, 0)).toBeUndefined();
    p.dispose();
  });

  it('emits nothing when nothing changed, and little for a one-cell change', async () => {
    const p = new Pipeline(80, 24);
    await p.feed('hello world\r\n$ ');
    await p.frameOut();
    expect(await p.frameOut()).toBe('');
    await p.feed('x');
    const delta = await p.frameOut();
    expect(delta.length).toBeLessThan(40);
    expect(delta).toContain('x');
    p.dispose();
  });

  it('redraws the pair when one half of a wide character is overwritten', async () => {
    const p = new Pipeline(10, 2);
    await p.feed('a日b');
    await p.frameOut();
    await p.feed('\x1b[1;3Hz'); // overwrite the right half of 日
    await p.frameOut();
    expect(dumpTerminal(p.outer)).toBe(dumpTerminal(p.screen.term));
    p.dispose();
  });

  it("leaves no stale half when the user's terminal draws an emoji in one column (older Unicode)", async () => {
    const p = new Pipeline(10, 2);
    const older = createXterm(10, 2, 0);
    older.unicode.activeVersion = '6'; // xterm's built-in table: 🥲 (Unicode 13) is 1 column there
    await p.feed('abcd');
    await write(older, await p.frameOut());
    await p.feed('\x1b[1;1H\u{1F972}');
    await write(older, await p.frameOut());
    expect(older.buffer.active.getLine(0)?.translateToString(true)).toBe('\u{1F972} cd');
    older.dispose();
    p.dispose();
  });

  it('mirrors cursor visibility and shape', async () => {
    const p = new Pipeline(10, 3);
    await p.feed('\x1b[?25l');
    expect(await p.frameOut()).toContain('\x1b[?25l');
    await p.feed('\x1b[?25h\x1b[3 q');
    const ansi = await p.frameOut();
    expect(ansi).toContain('\x1b[3 q');
    expect(ansi).toContain('\x1b[?25h');
    p.dispose();
  });
});
