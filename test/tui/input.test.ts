import { describe, expect, it } from 'vitest';
import { InputParser, MAX_HELD_INPUT, type GuestInputState, type InputEvent } from '../../src/host/tui/input.js';
import { decodeKeys, parsePrefixKey, prefixLabel } from '../../src/host/tui/keys.js';
import { encodeForGuest, parseSgrMouse } from '../../src/host/tui/mouse.js';

function setup(guest: Partial<GuestInputState> = {}, prefix = '\x1d') {
  const state: GuestInputState = {
    bracketedPaste: false,
    focus: false,
    mouse: { tracking: 'none', encoding: 'DEFAULT', top: 0, cols: 80, rows: 23 },
    ...guest,
  };
  const events: InputEvent[] = [];
  const parser = new InputParser(
    prefix,
    () => state,
    (ev) => events.push(ev),
  );
  const guestText = (): string =>
    events
      .filter((e) => e.type === 'guest')
      .map((e) => (typeof e.data === 'string' ? e.data : Buffer.from(e.data).toString('latin1')))
      .join('');
  const commands = (): string[] => events.flatMap((e) => (e.type === 'command' ? [JSON.stringify(e.command)] : []));
  return { parser, events, state, guestText, commands };
}

describe('prefix key state machine', () => {
  it('passes ordinary bytes through untouched, in one write', () => {
    const t = setup();
    t.parser.feed('ls -la\r\x03\x1b[A\x1bOB\u00e9\u65e5');
    expect(t.events).toEqual([{ type: 'guest', data: 'ls -la\r\x03\x1b[A\x1bOB\u00e9\u65e5' }]);
  });

  it('maps prefix + key to commands', () => {
    const t = setup();
    for (const k of ['c', 'n', 'p', '3', '?', '[', 'q', 'l', 'y', 'Y', '\x1b[C', '\x1b[D', '\x1b[5~'])
      t.parser.feed(`\x1d${k}`);
    expect(t.commands()).toEqual([
      '{"kind":"new-tab"}',
      '{"kind":"next-tab"}',
      '{"kind":"prev-tab"}',
      '{"kind":"select-tab","index":3}',
      '{"kind":"help"}',
      '{"kind":"copy-mode","pageUp":false}',
      '{"kind":"quit"}',
      '{"kind":"redraw"}',
      '{"kind":"clipboard-allow","always":false}',
      '{"kind":"clipboard-allow","always":true}',
      '{"kind":"next-tab"}',
      '{"kind":"prev-tab"}',
      '{"kind":"copy-mode","pageUp":true}',
    ]);
    expect(t.guestText()).toBe('');
  });

  it('prefix twice sends the prefix byte itself', () => {
    const t = setup();
    t.parser.feed('a\x1d\x1db');
    expect(t.guestText()).toBe('a\x1db');
    expect(t.commands()).toEqual([]);
  });

  it('prefix state survives a read boundary, including a split arrow key', () => {
    const t = setup();
    t.parser.feed('x\x1d');
    expect(t.parser.inPrefix).toBe(true);
    t.parser.feed('\x1b[');
    t.parser.feed('C');
    expect(t.commands()).toEqual(['{"kind":"next-tab"}']);
    expect(t.guestText()).toBe('x');
  });

  it('an unbound key after the prefix is swallowed and leaves prefix mode', () => {
    const t = setup();
    t.parser.feed('\x1dzabc');
    expect(t.guestText()).toBe('abc');
    expect(t.commands()).toEqual([]);
  });

  it('a command can switch to modal mode before the rest of the same read', () => {
    const t = setup();
    const events: InputEvent[] = [];
    const state = t.state;
    const parser: InputParser = new InputParser(
      '\x1d',
      () => state,
      (ev) => {
        events.push(ev);
        if (ev.type === 'command' && ev.command.kind === 'copy-mode') parser.modal = true;
        if (ev.type === 'keys' && ev.keys.includes('q')) parser.modal = false;
      },
    );
    parser.feed('\x1d[kk\x1b[Aqls\r');
    expect(events).toEqual([
      { type: 'command', command: { kind: 'copy-mode', pageUp: false } },
      { type: 'keys', keys: ['k'] },
      { type: 'keys', keys: ['k'] },
      { type: 'keys', keys: ['Up'] },
      { type: 'keys', keys: ['q'] },
      { type: 'guest', data: 'ls\r' },
    ]);
  });

  it('honours another prefix key', () => {
    const t = setup({}, parsePrefixKey('C-a'));
    t.parser.feed('\x1d\x01c');
    expect(t.guestText()).toBe('\x1d');
    expect(t.commands()).toEqual(['{"kind":"new-tab"}']);
  });
});

describe('bracketed paste', () => {
  it('strips markers when the guest did not enable paste mode, and never treats pasted prefix bytes as commands', () => {
    const t = setup();
    t.parser.feed('\x1b[200~echo \x1dq\x1d\x1d\x1b[201~!');
    expect(t.guestText()).toBe('echo \x1dq\x1d\x1d!');
    expect(t.commands()).toEqual([]);
  });

  it('keeps markers when the guest enabled paste mode, across split reads', () => {
    const t = setup({ bracketedPaste: true });
    t.parser.feed('\x1b[200');
    t.parser.feed('~one\x1b[20');
    t.parser.feed('1~');
    expect(t.guestText()).toBe('\x1b[200~one\x1b[201~');
  });

  it('holds a partial marker and flushes it when no more input comes', () => {
    const t = setup();
    t.parser.feed('a\x1b[2');
    expect(t.guestText()).toBe('a');
    expect(t.parser.hasPending).toBe(true);
    t.parser.flush();
    expect(t.guestText()).toBe('a\x1b[2');
  });

  it('does not hold a lone Escape (vim users would feel the delay)', () => {
    const t = setup();
    t.parser.feed('\x1b');
    expect(t.guestText()).toBe('\x1b');
    expect(t.parser.hasPending).toBe(false);
  });
});

describe('mouse and focus', () => {
  const mouse = { tracking: 'vt200' as const, encoding: 'SGR' as const, top: 1, cols: 80, rows: 23 };

  it('shifts rows past a top status line', () => {
    const t = setup({ mouse });
    t.parser.feed('\x1b[<0;10;5M\x1b[<0;10;5m');
    expect(t.guestText()).toBe('\x1b[<0;10;4M\x1b[<0;10;4m');
  });

  it('drops clicks on the status line and when the guest has no mouse mode', () => {
    const t = setup({ mouse });
    t.parser.feed('\x1b[<0;10;1M');
    expect(t.guestText()).toBe('');
    const u = setup();
    u.parser.feed('\x1b[<0;10;5M');
    expect(u.guestText()).toBe('');
  });

  it('re-encodes for guests that want X10/normal, urxvt or UTF-8 coordinates', () => {
    const ev = parseSgrMouse('\x1b[<0;10;5m');
    expect(ev).toEqual({ button: 0, x: 10, y: 5, release: true });
    if (!ev) return;
    const target = { tracking: 'vt200' as const, top: 0, cols: 300, rows: 300 };
    expect(encodeForGuest(ev, { ...target, encoding: 'DEFAULT' })).toEqual(Uint8Array.of(0x1b, 0x5b, 0x4d, 35, 42, 37));
    expect(encodeForGuest(ev, { ...target, encoding: 'URXVT' })).toBe('\x1b[35;10;5M');
    expect(encodeForGuest({ ...ev, x: 250 }, { ...target, encoding: 'DEFAULT' })).toBeUndefined();
    expect(encodeForGuest({ ...ev, x: 250 }, { ...target, encoding: 'UTF8' })).toBe('\x1b[M#\u011a%');
    // x10 tracking wants presses only; vt200 no motion; drag no buttonless motion
    expect(encodeForGuest(ev, { ...target, tracking: 'x10', encoding: 'SGR' })).toBeUndefined();
    expect(encodeForGuest({ ...ev, button: 32, release: false }, { ...target, encoding: 'SGR' })).toBeUndefined();
    expect(
      encodeForGuest({ ...ev, button: 35, release: false }, { ...target, tracking: 'drag', encoding: 'SGR' }),
    ).toBeUndefined();
    expect(
      encodeForGuest({ ...ev, button: 32, release: false }, { ...target, tracking: 'drag', encoding: 'SGR' }),
    ).toBe('\x1b[<32;10;5M');
  });

  it('passes focus events only when the guest asked for them', () => {
    const t = setup();
    t.parser.feed('\x1b[Ia\x1b[O');
    expect(t.guestText()).toBe('a');
    const u = setup({ focus: true });
    u.parser.feed('\x1b[Ia\x1b[O');
    expect(u.guestText()).toBe('\x1b[Ia\x1b[O');
  });

  it('holds a mouse report split across reads', () => {
    const t = setup({ mouse });
    t.parser.feed('\x1b[<0;1');
    t.parser.feed('0;5M');
    expect(t.guestText()).toBe('\x1b[<0;10;4M');
  });
});

describe('keys and prefix names', () => {
  it('decodes keys for modal modes', () => {
    expect(decodeKeys('k\x1b[A\x1b[5~\x1b[6~\r\x7f\x15/\x1b')).toEqual([
      'k',
      'Up',
      'PageUp',
      'PageDown',
      'Enter',
      'Backspace',
      'C-u',
      '/',
      'Escape',
    ]);
    expect(decodeKeys('\x1b[1;5A')).toEqual(['Up']);
    expect(decodeKeys('😀')).toEqual(['😀']);
  });

  it('parses prefix key specs and rejects unusable ones', () => {
    expect(parsePrefixKey('C-]')).toBe('\x1d');
    expect(parsePrefixKey('C-a')).toBe('\x01');
    expect(parsePrefixKey('C-B')).toBe('\x02');
    expect(parsePrefixKey('^]')).toBe('\x1d');
    expect(parsePrefixKey('C-Space')).toBe('\x00');
    expect(prefixLabel('\x1d')).toBe('^]');
    expect(() => parsePrefixKey('a')).toThrow(/not a control key/);
    expect(() => parsePrefixKey('C-[')).toThrow(/Escape/);
    expect(() => parsePrefixKey('C-ab')).toThrow();
  });
});

describe('modal keys split across reads', () => {
  it('an arrow key split after ESC [ is still one key in copy mode', () => {
    const events: InputEvent[] = [];
    const state: GuestInputState = {
      bracketedPaste: false,
      focus: false,
      mouse: { tracking: 'none', encoding: 'DEFAULT', top: 0, cols: 80, rows: 23 },
    };
    const parser = new InputParser(
      '\x1d',
      () => state,
      (ev) => events.push(ev),
    );
    parser.modal = true;
    parser.feed('\x1b[');
    expect(parser.hasPending).toBe(true);
    parser.feed('A');
    expect(events).toEqual([{ type: 'keys', keys: ['Up'] }]);
  });
});

describe('held partial sequences stay bounded', () => {
  it('an ESC [ that never ends is given up after MAX_HELD_INPUT chars, after the prefix and in modal mode', () => {
    for (const modal of [false, true]) {
      const t = setup();
      t.parser.modal = modal;
      if (!modal) t.parser.feed('\x1d');
      t.parser.feed('\x1b[');
      for (let i = 0; i < 100; i++) t.parser.feed('9'.repeat(50));
      expect(t.parser.heldLength).toBeLessThanOrEqual(MAX_HELD_INPUT);
    }
  });

  it('a mouse report whose numbers never end is passed on as typed text, not held', () => {
    const t = setup();
    t.parser.feed('\x1b[<');
    for (let i = 0; i < 100; i++) t.parser.feed('9'.repeat(50));
    expect(t.parser.heldLength).toBeLessThanOrEqual(MAX_HELD_INPUT);
    t.parser.flush();
    expect(t.guestText()).toBe(`\x1b[<${'9'.repeat(5000)}`);
  });
});
