/**
 * The width table is glibc's: regenerating it on this host (Debian 12, the guest's glibc 2.36) gives the
 * committed file byte for byte, and cellWidth reads it right at the edges that matter (issue #13).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cellWidth } from '../../src/host/tui/cell-width.js';

const root = join(import.meta.dirname, '..', '..');
const committed = readFileSync(join(root, 'src', 'host', 'tui', 'guest-widths.ts'), 'utf8');
const glibc = /glibc (\d+\.\d+)/.exec(committed)?.[1];
const hostGlibc = ((): string | undefined => {
  try {
    return /(\d+\.\d+)\s*$/m.exec(execFileSync('ldd', ['--version'], { encoding: 'utf8' }).split('\n')[0] ?? '')?.[1];
  } catch {
    return undefined;
  }
})();

describe('guest widths', () => {
  it("were generated from glibc 2.36, the guest image's", () => {
    expect(glibc).toBe('2.36');
  });

  it.runIf(hostGlibc === glibc)("match what the generator prints from this host's glibc", () => {
    const dir = mkdtempSync(join(tmpdir(), 'vg-widths-'));
    try {
      const exe = join(dir, 'gen');
      execFileSync('cc', ['-O2', '-o', exe, join(root, 'scripts', 'gen-guest-widths.c')]);
      expect(execFileSync(exe, { encoding: 'utf8' })).toBe(committed);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives 2 to emoji from Unicode 12.1–15 and 0 to marks, joiners and selectors', () => {
    for (const cp of [0x1f972, 0x1f90c, 0x1fac0, 0x1fae0, 0x1f6dd, 0x1f7f0, 0x1f468, 0x4e00, 0xff01, 0x20000])
      expect(cellWidth(cp), cp.toString(16)).toBe(2);
    for (const cp of [0x301, 0x200d, 0xfe0f, 0xe0001, 0x1160]) expect(cellWidth(cp), cp.toString(16)).toBe(0);
    for (const cp of [0x41, 0xe9, 0x2764, 0x2500, 0x10ffff, 0x378]) expect(cellWidth(cp), cp.toString(16)).toBe(1);
    for (const cp of [0, 0x1b, 0x7f, 0x9b]) expect(cellWidth(cp)).toBe(0);
  });
});
