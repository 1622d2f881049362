/**
 * Fuzz: random guest byte streams (raw bytes and a grammar of plausible and hostile sequences)
 * through emulator + renderer. Nothing may throw; the renderer may only ever emit the sequences it
 * owns (so guest bytes can never reach the user's terminal raw); the user's terminal must show the
 * guest screen; and after RESTORE_SEQUENCE the user's terminal must be back in every default mode.
 */
import { describe, expect, it } from 'vitest';
import { RESTORE_SEQUENCE } from '../../src/host/tui/terminal.js';
import { isCursorHidden } from '../../src/host/tui/xterm.js';
import { piece, rng } from './fuzz-gen.js';
import { dumpTerminal, Pipeline, write } from './helpers.js';

/** Tokenize renderer output; return the first token the renderer has no business emitting. */
function foreignSequence(ansi: string): string | undefined {
  const token =
    // eslint-disable-next-line no-control-regex
    /\x1b\[(\??)([\d;:]*)( ?)([@-~])|\x1b\]([^\x07\x1b]*)(\x07|\x1b\\)|\x1b([=>])|([\x00-\x1f\x7f])|[^\x00-\x1f\x7f\x1b]+/gy;
  let m: RegExpExecArray | null;
  let at = 0;
  while (at < ansi.length) {
    token.lastIndex = at;
    m = token.exec(ansi);
    if (!m) return JSON.stringify(ansi.slice(at, at + 20));
    at = token.lastIndex;
    const [all, priv, params, space, final, osc, , , ctl] = m;
    if (ctl !== undefined && ctl !== '\r') return JSON.stringify(all);
    if (final !== undefined) {
      const ok =
        priv === '?'
          ? (final === 'h' || final === 'l') &&
            (params ?? '')
              .split(';')
              .every((p) => ['1', '7', '25', '1000', '1002', '1003', '1004', '1006', '2026'].includes(p))
          : space === ' '
            ? final === 'q'
            : ['H', 'C', 'G', 'K', 'X', 'm'].includes(final) || (final === 'J' && params === '2');
      if (!ok) return JSON.stringify(all);
    }
    // eslint-disable-next-line no-control-regex
    if (osc !== undefined && (!/^(2;|8;)/.test(osc) || /[\x00-\x1f]/.test(osc))) return JSON.stringify(all);
  }
  return undefined;
}

describe('fuzz: emulator + renderer', () => {
  it('rejects foreign sequences (the checker itself can fail)', () => {
    expect(foreignSequence('\x1b[?1049h')).toBeDefined();
    expect(foreignSequence('\x1b]52;c;aGk=\x07')).toBeDefined();
    expect(foreignSequence('a\x07')).toBeDefined();
    expect(foreignSequence('\x1b[2;3Hok\x1b[0;1;38;5;3m\x1b[?25l\x1b]2;t\x07')).toBeUndefined();
  });

  // TUI_FUZZ_SEEDS=500 for a longer hunt; the default keeps the suite quick.
  const seeds = Number(process.env['TUI_FUZZ_SEEDS'] ?? 24);
  for (let seed = 1; seed <= seeds; seed++) {
    it(`seed ${seed}: never throws, emits only its own sequences, mirrors the guest, restores cleanly`, async () => {
      const r = rng(seed * 7919);
      const cols = 10 + Math.floor(r() * 70);
      const rows = 3 + Math.floor(r() * 20);
      const p = new Pipeline(cols, rows, seed % 2);
      for (let frame = 0; frame < 40; frame++) {
        let chunk = '';
        for (let k = Math.floor(r() * 12); k >= 0; k--) chunk += piece(r);
        await p.feed(chunk);
        if (r() < 0.1) {
          const c = 5 + Math.floor(r() * 80);
          const rr = 2 + Math.floor(r() * 25);
          p.screen.resize(c, rr);
          p.outer.resize(c, rr + p.top);
          p.frame.resize(c, rr + p.top);
          p.renderer.invalidate();
        }
        const ansi = await p.frameOut();
        expect(foreignSequence(ansi), `frame ${frame}`).toBeUndefined();
      }
      // The user's terminal shows what the guest's emulator shows (cursor may differ: hidden, clamped).
      const strip = (d: string): string[] =>
        d
          .split('\n')
          .slice(0, -1)
          .map((l) => l.replace(/^ *\d+\|/, ''));
      expect(strip(dumpTerminal(p.outer, p.top, p.screen.rows))).toEqual(strip(dumpTerminal(p.screen.term)));

      await write(p.outer, RESTORE_SEQUENCE);
      const m = p.outer.modes;
      expect(p.outer.buffer.active.type).toBe('normal');
      expect(isCursorHidden(p.outer)).toBe(false);
      expect([
        m.mouseTrackingMode,
        m.bracketedPasteMode,
        m.sendFocusMode,
        m.applicationCursorKeysMode,
        m.applicationKeypadMode,
        m.synchronizedOutputMode,
        m.insertMode,
        m.originMode,
      ]).toEqual(['none', false, false, false, false, false, false, false]);
      expect(m.wraparoundMode).toBe(true);
      p.dispose();
    });
  }
});
