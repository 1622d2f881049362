/**
 * `exec --review DIR --on-exit apply` against a guest that lies (issue #15 §2): the command replaces the
 * guest's Node (which runs the review's scan) by a script that writes a made-up scan stream: a listing of
 * /work with `../` names, absolute paths, a name as a symlink and then as a directory, a path through a
 * link, setuid modes, a device, escape sequences, and the bytes of the files it lists. Beside DIR sit a
 * sentinel dir and a planted file and dir that nothing may touch. One VM. (Streams that lie about the
 * files themselves fail the whole review: test/spine/review-stream-hostile.test.ts.)
 */
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
import { REPLACE_GUEST_NODE, scanStream, sha } from '../helpers/review-stream.js';
import { runTool, said } from '../helpers/run-tool.js';

const base = mkdtempSync(join(tmpdir(), 'vg-review-hostile-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
const ESC_TITLE = '\x1b]0;pwned\x07';

it('names that leave DIR, a symlink then a directory of one name, a path through a link, setuid bits, a device: nothing outside DIR is touched, no link followed, exit 78', async () => {
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
      { p: 'existing', t: 'symlink', m: 0o777, s: 1, l: join(planted, 'file') },
      { p: 'dev', t: 'other', m: 0o644, s: 0 },
      file(`e${ESC_TITLE}`, 'odd name, fine'),
      { p: 'nul\0x', t: 'file', m: 0o644, s: 0, h: sha('') },
    ],
  };
  // The bytes of the files the host expects, and nothing for the names it refused.
  const stream = scanStream(listing, [
    { name: 'hostlink/pwn', data: 'inside DIR' },
    { name: 'ok', data: 'fine' },
    { name: `e${ESC_TITLE}`, data: 'odd name, fine' },
  ]);
  const guest = ['set -e', 'cat > /root/scan-stream.bin', ...REPLACE_GUEST_NODE].join('\n');
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
    { stdin: stream, timeoutMs: 150_000 },
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
