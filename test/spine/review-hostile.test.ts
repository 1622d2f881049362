/**
 * `exec --review DIR --on-exit apply` against a guest that lies (issue #15 §2): the command replaces the
 * guest's sftp-server by test/helpers/guest/hostile-sftp-server.mjs, which serves a made-up listing of
 * /work (`../` names, absolute paths, a name as a symlink and then as a directory, a path through a link,
 * a file larger or other than listed, setuid modes, a device, escape sequences) and made-up file bytes.
 * Beside DIR sit a sentinel dir and a planted file and dir that nothing may touch. One VM.
 */
import { createHash } from 'node:crypto';
import {
  chmodSync,
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
import { afterAll, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { runTool, said } from '../helpers/run-tool.js';

const base = mkdtempSync(join(tmpdir(), 'vg-review-hostile-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
const ESC_TITLE = '\x1b]0;pwned\x07';
const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

it('names that leave DIR, a symlink then a directory of one name, lying sizes and bytes: nothing outside DIR is touched, no link followed, exit 78', async () => {
  const dir = join(base, 'dir');
  const sentinel = join(base, 'sentinel');
  const planted = join(base, 'planted');
  for (const d of [dir, sentinel, planted]) mkdirSync(d);
  writeFileSync(join(planted, 'file'), 'host secret\n');
  writeFileSync(join(dir, 'existing'), 'mine\n');
  chmodSync(join(dir, 'existing'), 0o644);
  // The user's own link in DIR, to the sentinel: the guest turns it into a directory with a file in it.
  symlinkSync(sentinel, join(dir, 'hostlink'));
  const outside = (): unknown => ({
    sentinel: readdirSync(sentinel),
    planted: readdirSync(planted),
    file: readFileSync(join(planted, 'file'), 'utf8'),
    beside: readdirSync(base).sort(),
  });
  const before = outside();

  const file = (p: string, data: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    p,
    t: 'file',
    m: 0o644,
    s: Buffer.byteLength(data),
    h: sha(data),
    ...extra,
  });
  const listing = {
    v: 1,
    entries: [
      file('../escape', 'pwned'),
      file(`${sentinel}/abs`, 'pwned'),
      file('a/../../x', 'pwned'),
      { p: 'lnk', t: 'symlink', m: 0o777, s: 1, l: sentinel },
      { p: 'lnk', t: 'dir', m: 0o755, s: 0 },
      file('lnk/inside', 'pwned'),
      { p: 'hostlink', t: 'dir', m: 0o755, s: 0 },
      file('hostlink/pwn', 'inside DIR'),
      { p: 'dup', t: 'symlink', m: 0o777, s: 1, l: planted },
      file('dup/owned', 'pwned'),
      file('ok', 'fine', { m: 0o4755 }),
      file('liar', 'abc'),
      file('wrong', 'what was listed'),
      { p: 'existing', t: 'symlink', m: 0o777, s: 1, l: join(planted, 'file') },
      { p: 'dev', t: 'other', m: 0o644, s: 0 },
      file(`e${ESC_TITLE}`, 'odd name, fine'),
      { p: 'nul\0x', t: 'file', m: 0o644, s: 0, h: sha('') },
    ],
  };
  const served = (data: string): Record<string, unknown> => ({ type: 'file', mode: 0o644, data });
  const spec = {
    paths: {
      '/run/virtualghost-review.json': served(JSON.stringify(listing)),
      '/work/hostlink/pwn': served('inside DIR'),
      '/work/ok': served('fine'),
      '/work/liar': served('abc and much more than listed'),
      '/work/wrong': served('something else'),
      [`/work/e${ESC_TITLE}`]: served('odd name, fine'),
      // What a host that trusted the names would fetch (and then write outside DIR).
      '/escape': served('pwned'),
      [`/work${sentinel}/abs`]: served('pwned'),
      '/work/lnk/inside': served('pwned'),
      '/work/dup/owned': served('pwned'),
    },
  };
  const server = readFileSync(new URL('../helpers/guest/hostile-sftp-server.mjs', import.meta.url));
  const guest = [
    'set -e',
    'cat > /root/hostile-sftp.mjs',
    `echo ${Buffer.from(JSON.stringify(spec)).toString('base64')} | base64 -d > /root/hostile.json`,
    "printf '#!/bin/sh\\nexec /usr/local/bin/node /root/hostile-sftp.mjs /root/hostile.json\\n' > /usr/lib/openssh/sftp-server",
  ].join('\n');
  const r = await runTool(
    'sh',
    [
      '-c',
      'umask 022 && exec "$@"',
      'sh',
      process.execPath,
      BIN,
      'exec',
      '--review',
      dir,
      '--on-exit',
      'apply',
      '--',
      'sh',
      '-c',
      guest,
    ],
    { stdin: server, timeoutMs: 150_000 },
  );
  expect(outside()).toEqual(before);
  expect(r.code, said(r)).toBe(78);
  // eslint-disable-next-line no-control-regex
  expect(r.stderr, 'raw ESC or BEL on the terminal').not.toMatch(/[\x07\x1b\x9b]/);
  for (const shown of [
    'refused "../escape": the name ".." in its path',
    `refused "${sentinel}/abs": an empty name in its path`,
    'refused "a/../../x": the name ".." in its path',
    'refused "lnk": a path listed twice',
    'refused "lnk/inside": its parent is not a directory',
    'refused "dup/owned": its parent is not a directory',
    'refused "nul\\x00x": a name containing a NUL byte in its path',
    'liar: refused: the guest sent more than the 3 bytes it listed',
    'wrong: refused: the bytes the guest sent are not the ones it listed',
    '"dev": a device node, FIFO or socket, never applied',
    '"ok": its setuid/setgid bits',
  ])
    expect(r.stderr).toContain(shown);

  expect(readdirSync(dir).sort()).toEqual(['dup', `e${ESC_TITLE}`, 'existing', 'hostlink', 'lnk', 'ok'].sort());
  expect(readlinkSync(join(dir, 'lnk'))).toBe(sentinel);
  expect(readlinkSync(join(dir, 'dup'))).toBe(planted);
  // The file became a link (its text applied, never followed); the host file it names is as it was.
  expect(readlinkSync(join(dir, 'existing'))).toBe(join(planted, 'file'));
  // The user's link became a real directory in DIR: the file went there, not into the sentinel.
  expect(lstatSync(join(dir, 'hostlink')).isDirectory()).toBe(true);
  expect(readFileSync(join(dir, 'hostlink', 'pwn'), 'utf8')).toBe('inside DIR');
  expect(readFileSync(join(dir, 'ok'), 'utf8')).toBe('fine');
  expect(statSync(join(dir, 'ok')).mode & 0o7777).toBe(0o755);
  expect(readFileSync(join(dir, `e${ESC_TITLE}`), 'utf8')).toBe('odd name, fine');
});
