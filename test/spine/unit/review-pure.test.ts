/**
 * The host-side parts of `--review` that need no VM: the listing parser's refusals, rename detection,
 * apply's refusal to write through a parent that became a link on this machine, and the Firecracker
 * `-v` mount turned into a review (read-only: never applied).
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { applyChanges } from '../../../src/host/review/apply.js';
import { computeChanges } from '../../../src/host/review/changes.js';
import type { Tree, TreeEntry } from '../../../src/host/review/entry.js';
import { parseGuestListing } from '../../../src/host/review/listing.js';
import { firecrackerMountNotice, reviewForMount } from '../../../src/host/review/spec.js';
import type { Staging } from '../../../src/host/review/staging.js';

const base = mkdtempSync(join(tmpdir(), 'vg-review-pure-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
const H = 'a'.repeat(64);
const tree = (...entries: TreeEntry[]): Tree => new Map(entries.map((e) => [e.path, e]));

describe('the guest listing', () => {
  it('refuses paths that leave the tree, repeats, children of non-directories, and bad fields', () => {
    const l = parseGuestListing(
      JSON.stringify({
        entries: [
          { p: '../x', t: 'file', m: 0o644, s: 0, h: H },
          { p: '/etc/passwd', t: 'file', m: 0o644, s: 0, h: H },
          { p: 'd', t: 'symlink', m: 0o777, s: 1, l: '/' },
          { p: 'd', t: 'dir', m: 0o755, s: 0 },
          { p: 'd/x', t: 'file', m: 0o644, s: 0, h: H },
          { p: 'f', t: 'file', m: 0o644, s: 0, h: 'nothex' },
          { p: 'g', t: 'file', m: -1, s: 0, h: H },
          { p: 'ok', t: 'file', m: 0o6755, s: 0, h: H },
        ],
      }),
    );
    expect([...l.tree.keys()]).toEqual(['d', 'ok']);
    expect(l.tree.get('ok')?.mode).toBe(0o755);
    expect(l.refused).toHaveLength(6);
    expect(l.notApplied).toEqual(['"ok": its setuid/setgid bits (the rest of it is applied)']);
  });

  it('a deleted file whose content reappears under one new name is a rename; under two names it is not', () => {
    const f = (path: string, sha256: string): TreeEntry => ({ path, type: 'file', mode: 0o644, size: 3, sha256 });
    expect(computeChanges(tree(f('a', H)), tree(f('b', H))).map((c) => [c.kind, c.from, c.path])).toEqual([
      ['renamed', 'a', 'b'],
    ]);
    expect(computeChanges(tree(f('a', H)), tree(f('b', H), f('c', H))).map((c) => c.kind)).toEqual([
      'deleted',
      'added',
      'added',
    ]);
  });
});

it('apply: a parent that became a symlink on this machine is a conflict, never followed', () => {
  const dir = join(base, 'dir');
  const elsewhere = join(base, 'elsewhere');
  const stage = join(base, 'stage');
  mkdirSync(elsewhere);
  mkdirSync(join(stage, 'b', 'sub'), { recursive: true });
  writeFileSync(join(stage, 'b', 'sub', 'new'), 'x');
  mkdirSync(dir);
  // At copy-in `sub` was a directory; the user has since replaced it with a link.
  symlinkSync(elsewhere, join(dir, 'sub'));
  const staging: Staging = {
    dir: stage,
    side: (w, p) => join(stage, w, ...p.split('/')),
    refused: new Map(),
    remove: () => undefined,
  };
  const snapshot = tree({ path: 'sub', type: 'dir', mode: 0o755, size: 0 });
  const guest = tree(
    { path: 'sub', type: 'dir', mode: 0o755, size: 0 },
    { path: 'sub/new', type: 'file', mode: 0o644, size: 1, sha256: H },
  );
  const r = applyChanges(dir, staging, computeChanges(snapshot, guest));
  expect(r.applied).toEqual([]);
  expect(r.problems).toEqual([
    'not applied: sub/new: conflict: sub on this machine is not a directory (a link is never followed)',
  ]);
  expect(readdirSync(elsewhere)).toEqual([]);
});

it('a Firecracker -v mount becomes a review; a read-only one is copied in and never applied', () => {
  const rw = reviewForMount({ host: base, guest: '/data/', readonly: false });
  expect(rw).toMatchObject({ guestDir: '/data', onExit: { kind: 'ask' } });
  expect(rw.readOnly).toBeUndefined();
  expect(reviewForMount({ host: base, guest: '/data', readonly: true })).toMatchObject({
    onExit: { kind: 'discard' },
    readOnly: true,
  });
  expect(() => reviewForMount({ host: base, guest: '/proc/x', readonly: false })).toThrow(/under \/proc/);
  expect(firecrackerMountNotice([{ host: '/h', guest: '/g', readonly: true }])).toContain(
    'Firecracker has no shared file system: /h:/g:ro is copied into the VM now',
  );
});
