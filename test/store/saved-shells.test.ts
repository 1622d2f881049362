/**
 * The saved shells of a suspended VM (supervisor/saved-shells.ts) read back as untrusted input: a round
 * trip keeps each tab's id, size and screen; a damaged, missing, oversized or symlinked screen file costs
 * only that tab its screen; a list file that is not JSON, breaks the schema, is too big or is a symlink
 * yields no shells; every file is removed after the read and the files are 0600.
 */
import { lstatSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  MAX_SCREEN_BYTES,
  SAVED_SHELLS_FILE,
  takeSavedShells,
  writeSavedShells,
} from '../../src/host/supervisor/saved-shells.js';

const ID0 = 'a'.repeat(32);
const ID1 = 'b'.repeat(32);
let dir = '';
let lines: string[] = [];
const log = (l: string): void => void lines.push(l);
const shells = [
  { tab: 0, guestId: ID0, cols: 80, rows: 24, screen: '\x1b[1mmarker-0\x1b[m\r\n$ ' },
  { tab: 3, guestId: ID1, cols: 100, rows: 30, screen: 'marker-3 é 🥲' },
];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vg-saved-shells-'));
  lines = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('saved shells', () => {
  it('round-trip: ids, sizes and screens come back; the files are 0600 and removed after the read', () => {
    writeSavedShells(dir, shells, log);
    for (const f of readdirSync(dir)) expect(lstatSync(join(dir, f)).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).sort()).toEqual([SAVED_SHELLS_FILE, 'shell-0.screen', 'shell-3.screen']);
    expect(takeSavedShells(dir, log)).toEqual(shells);
    expect(readdirSync(dir)).toEqual([]);
    expect(takeSavedShells(dir, log)).toEqual([]);
  });

  it('a damaged, missing or symlinked screen costs only that tab its screen', () => {
    writeSavedShells(dir, shells, log);
    writeFileSync(join(dir, 'shell-0.screen'), 'something else');
    rmSync(join(dir, 'shell-3.screen'));
    expect(takeSavedShells(dir, log)).toEqual(shells.map(({ screen: _s, ...rest }) => rest));
    expect(lines).toEqual([
      'tab 0 is re-attached without its old screen: shell-0.screen is not the one saved (damaged)',
      'tab 3 is re-attached without its old screen: shell-3.screen is missing',
    ]);
    writeSavedShells(dir, shells, log);
    const target = join(dir, 'elsewhere');
    writeFileSync(target, shells[0]?.screen ?? '');
    rmSync(join(dir, 'shell-0.screen'));
    symlinkSync(target, join(dir, 'shell-0.screen'));
    lines = [];
    expect(takeSavedShells(dir, log)[0]).toEqual({ tab: 0, guestId: ID0, cols: 80, rows: 24 });
    expect(lines[0]).toMatch(/^tab 0 is re-attached without its old screen: shell-0.screen cannot be read \(.*ELOOP/);
    expect(readdirSync(dir)).toEqual(['elsewhere']);
  });

  it('a screen over the bound is neither saved nor read', () => {
    const big = 'x'.repeat(MAX_SCREEN_BYTES + 1);
    writeSavedShells(dir, [{ tab: 0, guestId: ID0, cols: 80, rows: 24, screen: big }], log);
    expect(readdirSync(dir)).toEqual([SAVED_SHELLS_FILE]);
    expect(lines[0]).toContain('it is not saved');
    writeSavedShells(dir, shells, log);
    writeFileSync(join(dir, 'shell-0.screen'), big);
    lines = [];
    expect(takeSavedShells(dir, log)[0]).toEqual({ tab: 0, guestId: ID0, cols: 80, rows: 24 });
    expect(lines[0]).toContain(`more than ${MAX_SCREEN_BYTES}`);
  });

  it.each([
    ['not JSON', '{', 'is not JSON'],
    [
      'a bad guest id',
      JSON.stringify({ format: 1, shells: [{ tab: 0, guestId: '../x', cols: 80, rows: 24, screen: null }] }),
      'is invalid at shells.0.guestId',
    ],
    [
      'a huge size',
      JSON.stringify({ format: 1, shells: [{ tab: 0, guestId: ID0, cols: 1e9, rows: 24, screen: null }] }),
      'is invalid at shells.0.cols',
    ],
    ['an unknown key', JSON.stringify({ format: 1, shells: [], extra: 1 }), 'is invalid'],
    ['too big', ' '.repeat(65 * 1024), 'more than'],
  ])('a list file with %s yields no shells, with a log line', (_what, text, why) => {
    writeSavedShells(dir, shells, log);
    writeFileSync(join(dir, SAVED_SHELLS_FILE), text);
    expect(takeSavedShells(dir, log)).toEqual([]);
    expect(lines.at(-1)).toContain(why);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a symlinked list file is not followed', () => {
    const target = join(dir, 'elsewhere.json');
    writeFileSync(target, JSON.stringify({ format: 1, shells: [] }));
    symlinkSync(target, join(dir, SAVED_SHELLS_FILE));
    expect(takeSavedShells(dir, log)).toEqual([]);
    expect(lines.at(-1)).toMatch(/could not be read .*ELOOP/);
  });
});
