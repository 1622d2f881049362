// Fuzzes what `cp NAME:SRC DEST` accepts from the guest's SFTP server (src/host/transfer/guest-names.ts):
// random names, chains of names, symlink targets and modes must never give a host path outside DEST, a
// mode with more than 0777 & ~umask, a notice with a control character, or an unexpected throw.
import { dirname, join, relative, resolve, sep } from 'node:path';
import { expect, it } from 'vitest';
import {
  guestEntryType,
  guestTime,
  hostChildPath,
  hostModeForGuest,
  refuseGuestName,
  refuseSymlinkTarget,
  shownGuestName,
} from '../../src/host/transfer/guest-names.js';
import { FUZZ_TIMEOUT_MS, int, pick, runFuzz, type Rng } from './rng.js';

const DEST = '/home/user/dest';
const pieces = [
  '.',
  '..',
  '/',
  '//',
  '\0',
  '\x1b',
  '\x07',
  '\x9b',
  '\n',
  'a',
  'b',
  'é',
  '\u{1f600}',
  '\ufffd',
  ' ',
  '-',
  '~',
  '\\',
  '%2e',
  '$HOME',
  '../',
  '/..',
  './',
  '*',
];

function randomName(rng: Rng): string {
  if (int(rng, 20) === 0) return 'x'.repeat(200 + int(rng, 100));
  let s = '';
  for (let k = int(rng, 6); k > 0; k--)
    s += int(rng, 3) === 0 ? String.fromCharCode(int(rng, 0x110)) : pick(rng, pieces);
  return s;
}

/** A plain assertion: `expect` per case would make 10^5 cases take minutes. */
function check(ok: boolean, what: string, value: unknown): void {
  if (!ok) throw new Error(`${what}: ${JSON.stringify(value)}`);
}

/** Never throws, and the accepted name is exactly one new component under `dir`. */
function checkName(dir: string, name: string): string | undefined {
  const why = refuseGuestName(name);
  if (why !== undefined) {
    let threw = false;
    try {
      hostChildPath(dir, name);
    } catch {
      threw = true;
    }
    check(threw, 'hostChildPath took a refused name', name);
    return undefined;
  }
  const p = hostChildPath(dir, name);
  check(
    dirname(p) === dir && relative(dir, p) === name && resolve(p).startsWith(dir + sep),
    'an accepted name is not one component under its dir',
    name,
  );
  return p;
}

it(
  'guest names, chained as a tree walk, never leave DEST; refused names cannot reach a path',
  async () => {
    await runFuzz('sftp-names', 2000, (rng) => {
      let dir = DEST;
      for (let depth = int(rng, 8); depth > 0; depth--) {
        const p = checkName(dir, randomName(rng));
        if (p !== undefined) dir = p;
      }
      check(resolve(dir) === DEST || resolve(dir).startsWith(DEST + sep), 'left DEST', dir);
    });
  },
  FUZZ_TIMEOUT_MS,
);

it(
  'modes, types, times, symlink targets and shown names from the guest stay in bounds',
  async () => {
    await runFuzz('sftp-attrs', 2000, (rng) => {
      const mode = int(rng, 4) === 0 ? undefined : int(rng, 2 ** 32);
      const umask = int(rng, 0o1000);
      const host = hostModeForGuest(mode, umask);
      check((host & ~0o777) === 0 && (host & umask) === 0, 'mode out of bounds', { mode, umask, host });
      check(['dir', 'file', 'symlink', 'other'].includes(guestEntryType(mode)), 'type', mode);
      const t = pick(rng, [undefined, -1, NaN, Infinity, 2 ** 32 - 1, int(rng, 2 ** 32), 1.5]);
      const time = guestTime(t, 123);
      check(Number.isInteger(time) && time >= 0, 'time', t);
      const text = randomName(rng);
      const why = refuseSymlinkTarget(text);
      check(why !== undefined || !(text.includes('\0') || text === ''), 'symlink target accepted', text);
      const shown = shownGuestName(text + randomName(rng));
      // eslint-disable-next-line no-control-regex
      check(!/[\x00-\x1f\x7f-\x9f]/.test(shown) && shown.length <= 4 * 100 + 1, 'shown name', shown);
    });
  },
  FUZZ_TIMEOUT_MS,
);

it('the names the issue lists are refused', () => {
  for (const name of ['', '.', '..', '../x', '/etc/passwd', 'a/b', 'x\0y', 'z'.repeat(256)])
    expect(refuseGuestName(name), JSON.stringify(name)).toBeDefined();
  for (const name of ['a', '.hidden', '..x', 'x..', '\x1b]0;pwned\x07', 'é', 'z'.repeat(255)])
    expect(refuseGuestName(name), JSON.stringify(name)).toBeUndefined();
  expect(join(DEST, 'ok')).toBe(hostChildPath(DEST, 'ok'));
});
