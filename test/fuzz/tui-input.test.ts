// Fuzzes the TUI input parser (tui/input.ts with keys.ts and mouse.ts): what the user's terminal sends
// (keys, escape sequences, mouse reports, pastes, the prefix, garbage), cut into reads at random. Nothing
// throws; the parser never holds more than a bounded partial sequence; and the same input split
// differently gives the same events. The one split excluded is right after a lone ESC: with nothing
// after it in the read, ESC is the Escape key (the app's 20 ms hold only covers sequences it started).
import { StringDecoder } from 'node:string_decoder';
import { expect, it } from 'vitest';
import { InputParser, MAX_HELD_INPUT, type GuestInputState, type InputEvent } from '../../src/host/tui/input.js';
import type { MouseTracking } from '../../src/host/tui/frame.js';
import type { MouseEncoding } from '../../src/host/tui/xterm.js';
import { randomBytes } from './gen.js';
import { FUZZ_TIMEOUT_MS, int, pick, runFuzz, type Rng } from './rng.js';

const PREFIX = '\x1d';
const tokens = [
  PREFIX,
  PREFIX,
  'q',
  '[',
  '?',
  'c',
  'n',
  'p',
  '3',
  'y',
  'k',
  'a',
  ' ',
  '\r',
  '\x00',
  '\x7f',
  '\t',
  'é',
  '日',
  '\u{1f600}',
  '\x1b',
  '\x1b[',
  '\x1bO',
  '\x1b[A',
  '\x1b[1;5C',
  '\x1b[5~',
  '\x1b[6~',
  '\x1bOB',
  '\x1b[3;2~',
  '\x1bx',
  '\x1b[200~',
  '\x1b[201~',
  '\x1b[20',
  '\x1b[201',
  '\x1b[I',
  '\x1b[O',
  '\x1b[<0;10;5M',
  '\x1b[<64;1;1m',
  '\x1b[<35;300;40M',
  '\x1b[<',
  '\x1b[<1;',
  `\x1b[<${'9'.repeat(12)};1;1M`,
  '\x1b[<1;2;3',
  '0123456789;',
  ';;;;',
  '9'.repeat(200),
];

function input(rng: Rng): string {
  const parts: string[] = [];
  for (let k = 1 + int(rng, 30); k > 0; k--) {
    const r = int(rng, 10);
    parts.push(
      r === 0
        ? randomBytes(rng, int(rng, 12)).toString('latin1')
        : r === 1
          ? '9'.repeat(int(rng, 2000))
          : pick(rng, tokens),
    );
  }
  return parts.join('');
}

function guest(rng: Rng): GuestInputState {
  const tracking = pick(rng, ['none', 'x10', 'vt200', 'drag', 'any'] as MouseTracking[]);
  const encoding = pick(rng, ['DEFAULT', 'SGR', 'SGR_PIXELS', 'URXVT', 'UTF8'] as MouseEncoding[]);
  return {
    bracketedPaste: int(rng, 2) === 0,
    focus: int(rng, 2) === 0,
    mouse: { tracking, encoding, top: int(rng, 2), cols: 80, rows: 23 },
  };
}

/** Feeds `reads` as the app does (modal switched by commands and by q/Escape, flush at the end). */
function parse(state: GuestInputState, reads: readonly string[]): { events: unknown[]; maxHeld: number } {
  const events: InputEvent[] = [];
  const parser: InputParser = new InputParser(
    PREFIX,
    () => state,
    (ev) => {
      events.push(ev);
      if (ev.type === 'command' && (ev.command.kind === 'copy-mode' || ev.command.kind === 'help')) parser.modal = true;
      if (ev.type === 'keys' && ev.keys.some((k) => k === 'q' || k === 'Escape')) parser.modal = false;
    },
  );
  let maxHeld = 0;
  for (const r of reads) {
    parser.feed(r);
    maxHeld = Math.max(maxHeld, parser.heldLength);
  }
  parser.flush();
  return { events: normalize(events), maxHeld };
}

/** Events as the guest and the TUI see them: adjacent guest writes joined, adjacent key batches joined. */
function normalize(events: readonly InputEvent[]): unknown[] {
  const out: Array<{ guest: string } | { keys: string[] } | { command: unknown }> = [];
  for (const ev of events) {
    const last = out[out.length - 1];
    if (ev.type === 'guest') {
      const bytes =
        typeof ev.data === 'string'
          ? Buffer.from(ev.data, 'utf8').toString('hex')
          : Buffer.from(ev.data).toString('hex');
      if (last && 'guest' in last) last.guest += bytes;
      else out.push({ guest: bytes });
    } else if (ev.type === 'keys') {
      if (last && 'keys' in last) last.keys.push(...ev.keys);
      else out.push({ keys: [...ev.keys] });
    } else out.push({ command: ev.command });
  }
  return out;
}

/** Random reads of `text`, cut only between code points (as the app's StringDecoder delivers) and never right after an ESC. */
function splitText(rng: Rng, text: string): string[] {
  const cps = [...text];
  const reads: string[] = [];
  let cur = '';
  const p = [0.02, 0.2, 0.7][int(rng, 3)] ?? 0.2;
  for (const cp of cps) {
    cur += cp;
    if (cp !== '\x1b' && rng() < p) {
      reads.push(cur);
      cur = '';
    }
  }
  if (cur) reads.push(cur);
  return reads;
}

it(
  'never throws, holds a bounded partial sequence, and gives the same events however the input is split',
  async () => {
    await runFuzz('tui input', 500, (rng, _i, show) => {
      const text = input(rng);
      const state = guest(rng);
      const reads = splitText(rng, text);
      show({ reads, state });
      const whole = parse(state, [text]);
      const split = parse(state, reads);
      if (split.maxHeld > MAX_HELD_INPUT) throw new Error(`parser held ${split.maxHeld} chars`);
      expect(split.events).toEqual(whole.events);
    });
  },
  FUZZ_TIMEOUT_MS,
);

it(
  'arbitrary bytes through a StringDecoder, as the app feeds them: never throws, stays bounded',
  async () => {
    await runFuzz('tui input bytes', 600, (rng, _i, show) => {
      const bytes = Buffer.concat([randomBytes(rng, int(rng, 300)), Buffer.from(input(rng), 'latin1')]);
      show(bytes);
      const decoder = new StringDecoder('utf8');
      const reads: string[] = [];
      for (let at = 0; at < bytes.length;) {
        const n = 1 + int(rng, 64);
        reads.push(decoder.write(bytes.subarray(at, at + n)));
        at += n;
      }
      reads.push(decoder.end());
      const { maxHeld } = parse(guest(rng), reads);
      if (maxHeld > MAX_HELD_INPUT) throw new Error(`parser held ${maxHeld} chars`);
    });
  },
  FUZZ_TIMEOUT_MS,
);
