/**
 * `clean` removes the work dirs a killed build left in the image cache — an image build's, a warm-snapshot
 * template's (`images/<id>/snapshots/.tmp-…`, with a RAM file of hundreds of MB), a damaged image being
 * deleted — but only when their creator is gone: the name records its pid and start time, so a pid reused
 * by another process does not keep a leftover alive, and a live build is never touched.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTimeOf } from '../../src/host/store/process-identity.js';
import { tempDirCreator, tempDirName } from '../../src/host/store/temp-dir.js';
import { runCli } from '../helpers/cli.js';
import { said } from '../helpers/run-tool.js';

const ID = '0123456789abcdef';
const KEY = 'fedcba9876543210';
const DEAD = 999_999_999; // above any pid_max
let home: string;
let images: string;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'vg-cleantmp-'));
  images = join(home, 'virtualghost', 'images');
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

function dir(...parts: string[]): string {
  const d = join(images, ...parts);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'memory.bin'), 'x');
  return d;
}

describe('clean and abandoned work dirs in the image cache', () => {
  it('removes those of dead or replaced processes, keeps live builds and published snapshots', async () => {
    const me = `${process.pid}-${startTimeOf(process.pid)}`;
    const gone = [
      dir(ID, 'snapshots', `.tmp-${KEY}-${DEAD}-12345-abcdef`), // a QEMU template whose process is dead
      dir(ID, 'snapshots', `.tmp-fc-${KEY}-${process.pid}-1-abcdef`), // a Firecracker template: its pid now runs another process
      dir(ID, 'snapshots', `.tmp-${KEY}-${DEAD}-abcdef`), // the older name (pid only), dead
      dir(`.tmp-${ID}-${process.pid}-1-abcdef`), // an image build: pid reused
      dir(`.damaged-${ID}-${DEAD}-1-abcdef`), // a damaged image whose deletion was interrupted
    ];
    const kept = [
      dir(ID, 'snapshots', `.tmp-${KEY}-${me}-abcdef`),
      dir(ID, 'snapshots', `.tmp-fc-${KEY}-${me}-abcdef`),
      dir(ID, 'snapshots', `.tmp-${KEY}-${process.pid}-abcdef`), // older name, live pid
      dir(ID, 'snapshots', KEY),
      dir(`.tmp-${ID}-${me}-abcdef`),
      dir(ID, 'snapshots', '.tmp-not-ours'),
    ];
    const r = await runCli(['clean'], { env: { XDG_CACHE_HOME: home } });
    expect(r.code, said(r)).toBe(0);
    for (const d of gone) expect(existsSync(d), d).toBe(false);
    for (const d of kept) expect(existsSync(d), d).toBe(true);
    expect(r.stdout.toString()).toContain(
      `removed interrupted warm snapshot ${ID}/snapshots/.tmp-${KEY}-${DEAD}-12345-abcdef\n`,
    );
    expect(r.stdout.toString()).toContain(`removed interrupted image build .tmp-${ID}-${process.pid}-1-abcdef\n`);
    expect(r.stdout.toString()).not.toContain('nothing to clean');
  });

  it.skipIf(process.getuid?.() !== 0)(
    'one that cannot be removed (a mount left inside by a killed build) is reported and does not stop the rest',
    async () => {
      const stuck = dir(`.tmp-${ID}-${DEAD}-1-abcdef`);
      const mnt = join(stuck, 'proc');
      mkdirSync(mnt);
      execFileSync('mount', ['-t', 'tmpfs', 'vg-clean-test', mnt]);
      try {
        const other = dir(ID, 'snapshots', `.tmp-${KEY}-${DEAD}-1-abcdef`);
        const r = await runCli(['clean'], { env: { XDG_CACHE_HOME: home } });
        expect(r.code, said(r)).toBe(0);
        expect(r.stderr).toMatch(new RegExp(`could not remove ${stuck}: .*EBUSY`));
        expect(existsSync(other)).toBe(false);
      } finally {
        execFileSync('umount', [mnt]);
      }
    },
  );

  it("names made by tempDirName carry the creator's pid and start time", () => {
    const name = tempDirName('.tmp-', `fc-${KEY}`);
    expect(tempDirCreator(name, '.tmp-')).toEqual({ pid: process.pid, start: startTimeOf(process.pid) });
    expect(tempDirCreator(`.tmp-${ID}-42`, '.tmp-')).toEqual({ pid: 42 });
    expect(tempDirCreator(`.tmp-${ID}-42-abcdef`, '.tmp-')).toEqual({ pid: 42 });
    for (const other of ['.tmp-x-42', `.tmp-${ID}-`, `.tmp-${ID}-0`, `${ID}-42`, `.tmp-${ID}-4-2-x-y`])
      expect(tempDirCreator(other, '.tmp-'), other).toBeUndefined();
  });
});
