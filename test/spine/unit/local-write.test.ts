/**
 * The host-side writes of `cp NAME:SRC DEST` (src/host/transfer/local-write.ts) on a real file system:
 * a symlink left at an entry (by an earlier copy from the guest) is replaced, never written through, and
 * nothing outside the entry changes; temp files do not stay behind.
 */
import { execFileSync } from 'node:child_process';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  currentUmask,
  ensureRealDir,
  finishDir,
  placeSymlink,
  TempFile,
} from '../../../src/host/transfer/local-write.js';

let root: string;
let outsideFile: string;
let outsideDir: string;
let dest: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'vg-local-write-'));
  outsideFile = join(root, 'outside-file');
  outsideDir = join(root, 'outside-dir');
  dest = join(root, 'dest');
  writeFileSync(outsideFile, 'host secret', { mode: 0o640 });
  mkdirSync(outsideDir, { mode: 0o750 });
  mkdirSync(dest);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const outside = (): unknown => ({
  file: readFileSync(outsideFile, 'utf8'),
  fileMode: statSync(outsideFile).mode,
  dirMode: statSync(outsideDir).mode,
  inDir: readdirSync(outsideDir),
});

describe('TempFile', () => {
  it('replaces a symlink at the destination instead of writing through it, with the mode and times given', () => {
    const before = outside();
    const at = join(dest, 'f');
    symlinkSync(outsideFile, at);
    const tmp = new TempFile(at);
    writeFileSync(tmp.fd, 'from the guest');
    tmp.commit(0o640, 1_000_000, 2_000_000);
    expect(outside()).toEqual(before);
    const st = lstatSync(at);
    expect(st.isFile()).toBe(true);
    expect(st.mode & 0o7777).toBe(0o640);
    expect(st.mtimeMs).toBe(2_000_000_000);
    expect(readFileSync(at, 'utf8')).toBe('from the guest');
    expect(readdirSync(dest)).toEqual(['f']);
  });

  it('discard leaves nothing behind; a directory in the way is named with the operation', () => {
    const tmp = new TempFile(join(dest, 'gone'));
    tmp.discard();
    expect(readdirSync(dest)).toEqual([]);
    mkdirSync(join(dest, 'd'));
    const inWay = new TempFile(join(dest, 'd'));
    expect(() => inWay.commit(0o644, 0, 0)).toThrow(
      `cannot write file ${join(dest, 'd')}: a directory of that name is in the way`,
    );
    expect(readdirSync(dest)).toEqual(['d']);
  });
});

describe('placeSymlink', () => {
  it('makes the link as text, replaces an old link, and refuses to replace a directory', () => {
    const at = join(dest, 'l');
    symlinkSync(outsideDir, at);
    placeSymlink('../anything', at);
    expect(readlinkSync(at)).toBe('../anything');
    mkdirSync(join(dest, 'd'));
    expect(() => placeSymlink('x', join(dest, 'd'))).toThrow(
      `cannot create symbolic link ${join(dest, 'd')}: a directory of that name is in the way`,
    );
    expect(readdirSync(dest).sort()).toEqual(['d', 'l']);
  });
});

describe('ensureRealDir and finishDir', () => {
  it('a symlink to a host directory is replaced by a real one; the host directory is untouched', () => {
    const before = outside();
    const at = join(dest, 'd');
    symlinkSync(outsideDir, at);
    ensureRealDir(at);
    expect(lstatSync(at).isDirectory()).toBe(true);
    expect(lstatSync(at).mode & 0o777).toBe(0o700);
    writeFileSync(join(at, 'x'), 'x');
    finishDir(at, 0o750, 5, 6);
    expect(lstatSync(at).mode & 0o7777).toBe(0o750);
    expect(outside()).toEqual(before);
  });

  it('a regular file in the way is refused, not deleted; finishDir refuses a symlink', () => {
    const file = join(dest, 'mine');
    writeFileSync(file, 'keep');
    expect(() => ensureRealDir(file)).toThrow(`cannot create directory ${file}: a file of that name is in the way`);
    expect(readFileSync(file, 'utf8')).toBe('keep');
    const before = outside();
    const link = join(dest, 'link');
    symlinkSync(outsideDir, link);
    expect(() => finishDir(link, 0o777, 0, 0)).toThrow(
      `cannot set mode and times of directory ${link}: it is no longer a real directory`,
    );
    expect(outside()).toEqual(before);
  });
});

it('currentUmask reads the umask without changing it', () => {
  const shell = parseInt(execFileSync('/bin/sh', ['-c', 'umask'], { encoding: 'utf8' }).trim(), 8);
  expect(currentUmask()).toBe(shell);
  expect(currentUmask()).toBe(shell);
});
