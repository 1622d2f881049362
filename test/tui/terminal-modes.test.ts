/**
 * Re-attach restores the terminal state (issue #13 item 4): a guest sets every mode a screen dump does
 * not carry; the supervisor's replay (serialize addon + terminalStateSequence) is played into a fresh
 * emulator, as an attaching client's; both are then queried (DECRQM, DECRQSS) and fed the same guest
 * output, which must draw the same screen (saved cursor, charsets, tab stops, region, origin mode).
 */
import serializeAddon from '@xterm/addon-serialize';
import { describe, expect, it } from 'vitest';
import { terminalStateSequence } from '../../src/host/tui/terminal-modes.js';
import {
  createXterm,
  cursorShape,
  isCursorHidden,
  mouseEncoding,
  windowTitle,
  type XTerminal,
} from '../../src/host/tui/xterm.js';
import { dumpTerminal, write } from './helpers.js';

const { SerializeAddon } = serializeAddon;

/** Everything issue #13 lists, set the way programs set it. */
const GUEST_SETUP = [
  'some text\r\nmore text\r\n',
  '\x1b[3g\x1b[1;5H\x1bH\x1b[1;13H\x1bH', // tab stops at columns 5 and 13 only
  '\x1b[4;7H\x1b(0\x1b7\x1b(B', // DECSC at row 4 col 7 with line drawing in G0
  '\x1b)0\x0e', // G1 = line drawing, shifted into GL
  '\x1b[3;9r\x1b[?6h\x1b[2;4H', // scroll region 3–9, origin mode, cursor inside it
  '\x1b[?25l\x1b[5 q', // hidden blinking bar cursor
  '\x1b[?1002h\x1b[?1006h', // button-drag mouse, SGR encoding
  '\x1b[?2004h\x1b[?1h\x1b=\x1b[?1004h', // bracketed paste, app cursor and keypad, focus
  '\x1b[?7l\x1b[4h', // autowrap off, insert mode
  '\x1b]2;editing notes.txt\x07',
].join('');

const QUERIES = [
  ...[25, 1006, 1002, 1000, 1003, 2004, 1, 66, 6, 7, 1004, 45].map((n) => `\x1b[?${n}$p`),
  '\x1b[4$p', // IRM
  '\x1bP$qr\x1b\\', // DECSTBM
  '\x1bP$q q\x1b\\', // DECSCUSR
];

async function answers(term: XTerminal): Promise<string[]> {
  const out: string[] = [];
  for (const q of QUERIES) {
    let got = '';
    const sub = term.onData((d) => {
      got += d;
    });
    await write(term, q);
    sub.dispose();
    out.push(got);
  }
  return out;
}

async function replayInto(source: XTerminal, cols: number, rows: number): Promise<XTerminal> {
  const serializer = new SerializeAddon();
  source.loadAddon(serializer as never);
  const replay = serializer.serialize({ scrollback: 100, excludeModes: true }) + terminalStateSequence(source);
  const client = createXterm(cols, rows, 100);
  await write(client, replay);
  return client;
}

/** What the guest prints after the attach, using each piece of state. */
const GUEST_AFTER = [
  'lqk', // at the restored cursor: line drawing via G1 (┌─┐), inserted (IRM)
  '\x1b[5;1H\tT\tU', // origin-relative row; the custom tab stops
  '\x0f\x1b8X', // back to G0; DECRC → row 4 col 7 with the saved line drawing…
  'q\x1b(B', // …so q is ─ (X has no line-drawing glyph)
  '\x1b[?6l\x1b[11;1H' + 'y'.repeat(45), // autowrap off: the row ends at the margin
  '\x1b[?6h\x1b[7;1H\n', // scrolls the region only (rows 1–2 and 10–12 stay)
].join('');

describe('terminal state survives a replay to an attaching client', () => {
  it('answers every mode query as before and draws the same screen afterwards', async () => {
    const guest = createXterm(40, 12, 100);
    await write(guest, GUEST_SETUP);
    const before = await answers(guest);
    // The guest really is in non-default states (else the comparison proves nothing).
    expect(before).toEqual([
      '\x1b[?25;2$y',
      '\x1b[?1006;1$y',
      '\x1b[?1002;1$y',
      '\x1b[?1000;2$y',
      '\x1b[?1003;2$y',
      '\x1b[?2004;1$y',
      '\x1b[?1;1$y',
      '\x1b[?66;1$y',
      '\x1b[?6;1$y',
      '\x1b[?7;2$y',
      '\x1b[?1004;1$y',
      '\x1b[?45;2$y',
      '\x1b[4;1$y',
      '\x1bP1$r3;9r\x1b\\',
      // eslint-disable-next-line no-control-regex -- the DECSCUSR reply, escapes and all
      expect.stringMatching(/^\x1bP1\$r\d q\x1b\\$/),
    ]);

    const client = await replayInto(guest, 40, 12);
    expect(await answers(client)).toEqual(before);
    expect(isCursorHidden(client)).toBe(true);
    expect(cursorShape(client)).toEqual({ shape: 'bar', blink: true });
    expect(mouseEncoding(client)).toBe('SGR');
    expect(windowTitle(client)).toBe('editing notes.txt');
    expect(client.buffer.active.cursorX).toBe(guest.buffer.active.cursorX);
    expect(client.buffer.active.cursorY).toBe(guest.buffer.active.cursorY);

    await write(guest, GUEST_AFTER);
    await write(client, GUEST_AFTER);
    const shown = dumpTerminal(guest);
    expect(shown).toContain('┌─┐');
    expect(dumpTerminal(client)).toBe(shown);
    guest.dispose();
    client.dispose();
  });

  it('adds nothing for a terminal in its default state but the cursor position', async () => {
    const guest = createXterm(20, 5, 10);
    await write(guest, 'hello\r\n');
    expect(terminalStateSequence(guest)).toBe('\x1b[2;1H');
    expect(terminalStateSequence(guest)).not.toContain('\x1b[3g');
    guest.dispose();
  });
});
