/**
 * The review's scan stream (issue #15 §2/§3): the guest lists /work and streams the changed files on
 * one exec channel, and the host reads that stream as hostile input. One VM, the workspace driven
 * in-process:
 *  1. the real scan: a new file and a file rewritten at the same size with its mtime put back (the
 *     copy-in's size/mtime shortcut must still see it, by its ctime) arrive staged with their bytes, and
 *     an unchanged file is not part of the change set;
 *  2. the guest's Node replaced by a script that writes made-up streams: every lie (an entry not
 *     announced, `../`, an absolute path, NUL, control bytes, invalid UTF-8, a wrong size, wrong bytes, a
 *     name twice, a missing file, a stream cut short or running on, a listing too large or not JSON) fails
 *     the review with ReviewFailedError naming the lie, and leaves nothing staged and nothing outside.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReviewFailedError } from '../../src/host/review/errors.js';
import { Workspace } from '../../src/host/review/workspace.js';
import type { VmSession } from '../../src/host/session.js';
import { REPLACE_GUEST_NODE, scanStream, sha, type StreamedFile } from '../helpers/review-stream.js';
import { bootVm } from '../helpers/session.js';

const base = mkdtempSync(join(tmpdir(), 'vg-review-stream-'));
const dir = join(base, 'dir');
// The staging dirs go to os.tmpdir(): a private one, so that "nothing staged" is checked exactly.
const staging = join(base, 'tmp');
const ownTmp = process.env['TMPDIR'];
let session: VmSession | undefined;
let ws: Workspace;

function guest(script: string, stdin: Buffer | string = ''): Promise<void> {
  return new Promise((resolve, reject) => {
    const ssh = session?.ssh;
    if (!ssh) return reject(new Error('no ssh'));
    ssh.exec(script, (err, ch) => {
      if (err) return reject(err);
      let code = -1;
      ch.on('exit', (c: number | null) => (code = c ?? -1));
      ch.on('close', () => (code === 0 ? resolve() : reject(new Error(`guest: ${script}: exit ${code}`))));
      ch.resume();
      ch.end(stdin);
    });
  });
}

beforeAll(async () => {
  mkdirSync(dir);
  mkdirSync(staging);
  writeFileSync(join(dir, 'keep'), 'keep\n');
  writeFileSync(join(dir, 'same'), 'aaaa\n');
  process.env['TMPDIR'] = staging;
  session = await bootVm();
  ws = new Workspace({ hostDir: dir, guestDir: '/work', onExit: { kind: 'discard' } }, () => undefined);
  if (!session.ssh) throw new Error('no ssh');
  await ws.copyIn(session.ssh);
}, 180_000);

afterAll(async () => {
  await session?.close();
  if (ownTmp === undefined) delete process.env['TMPDIR'];
  else process.env['TMPDIR'] = ownTmp;
  rmSync(base, { recursive: true, force: true });
});

describe('review scan stream', () => {
  it('the real scan: new and same-size rewritten files are staged with their bytes; unchanged ones are not changes', async () => {
    await guest(
      [
        'set -e',
        'cd /work',
        "printf 'hello\\n' > new",
        // Same size, mtime put back to the copy-in's: only its ctime shows the change.
        'm=$(stat -c %Y same)',
        "printf 'bbbb\\n' > same",
        'touch -d @$m same',
      ].join('\n'),
    );
    const got = await ws.collect(session?.ssh as NonNullable<VmSession['ssh']>);
    try {
      expect(got.changes.map((c) => `${c.kind} ${c.path}`).sort()).toEqual(['added new', 'modified same']);
      expect(readFileSync(got.staging.side('b', 'new'), 'utf8')).toBe('hello\n');
      expect(readFileSync(got.staging.side('b', 'same'), 'utf8')).toBe('bbbb\n');
      expect(readFileSync(got.staging.side('a', 'same'), 'utf8')).toBe('aaaa\n');
    } finally {
      got.staging.remove();
    }
    expect(readdirSync(staging)).toEqual([]);
  });

  describe('a guest whose Node writes a made-up stream', () => {
    const ESC = '\x1b]0;pwned\x07';
    const file = (p: string, data: string): Record<string, unknown> => ({
      p,
      t: 'file',
      m: 0o644,
      s: Buffer.byteLength(data),
      h: sha(data),
    });
    // What the guest's /work now holds: keep and same unchanged since the last case, new added.
    const listing = {
      v: 2,
      entries: [file('keep', 'keep\n'), file('new', 'hello'), file('same', 'aaaa\n')],
    };
    const newFile: StreamedFile = { name: 'new', data: 'hello' };
    const cases: Array<[string, Buffer, string]> = [
      [
        'a file the listing has but not as changed',
        scanStream(listing, [newFile, { name: 'keep', data: 'keep\n' }]),
        'sends "keep", which is not a changed file its listing announced',
      ],
      [
        'a file the listing never had',
        scanStream(listing, [newFile, { name: 'other', data: 'x' }]),
        'sends "other", which is not a changed file',
      ],
      [
        'a ../ name, listed and sent',
        scanStream({ v: 2, entries: [...listing.entries, file('../escape', 'pwned')] }, [
          { name: '../escape', data: 'pwned' },
          newFile,
        ]),
        'sends "../escape", which is not a changed file',
      ],
      [
        'an absolute path',
        scanStream(listing, [{ name: `${base}/abs`, data: 'pwned' }, newFile]),
        `sends "${base}/abs", which is not a changed file`,
      ],
      [
        'a NUL in a name',
        scanStream(listing, [{ name: 'new\0', data: 'hello' }]),
        'sends "new\\x00", which is not a changed file',
      ],
      [
        'control bytes in a name',
        scanStream(listing, [{ name: `n${ESC}`, data: 'x' }]),
        'sends "n\\x1b]0;pwned\\x07", which is not a changed file',
      ],
      [
        'invalid UTF-8 that decodes to a listed name',
        scanStream({ v: 2, entries: [...listing.entries, file('n\uFFFD', 'x')] }, [
          newFile,
          { name: Buffer.from([0x6e, 0xff]), data: 'x' },
        ]),
        'sends "n\uFFFD", which is not a changed file',
      ],
      [
        'a size other than listed',
        scanStream(listing, [{ name: 'new', data: 'hell', size: 4 }]),
        'sends 4 bytes for "new", whose listed size is 5',
      ],
      [
        'bytes other than hashed',
        scanStream(listing, [{ name: 'new', data: 'HELLO' }]),
        'sends bytes for "new" that are not the ones its listing hashed',
      ],
      ['a name twice', scanStream(listing, [newFile, newFile]), 'sends "new" twice'],
      [
        'a changed file missing',
        scanStream(listing, []),
        'ended without 1 changed file its listing announced, e.g. "new"',
      ],
      [
        'cut short in a file',
        scanStream(listing, [newFile], { end: false }).subarray(0, -2),
        'ended early (in the middle of a file)',
      ],
      ['cut short in the listing', scanStream(listing, []).subarray(0, 20), 'ended early (without its end mark)'],
      ['nothing at all', Buffer.alloc(0), 'ended early (without its end mark)'],
      [
        'bytes after the end mark',
        scanStream(listing, [newFile], { tail: Buffer.from('more') }),
        'goes on after its end mark',
      ],
      [
        'a listing larger than taken',
        scanStream(listing, [], { listingLength: 1n << 40n }),
        'announces a listing of 1099511627776 bytes',
      ],
      ['a listing that is not JSON', scanStream('nope', []), 'is not JSON'],
    ];

    beforeAll(async () => {
      await guest(['set -e', ...REPLACE_GUEST_NODE].join('\n'));
    });

    it.each(cases)('%s: the review fails naming it, nothing staged', async (_name, stream, message) => {
      await guest('cat > /root/scan-stream.bin', stream);
      const err: unknown = await ws.collect(session?.ssh as NonNullable<VmSession['ssh']>).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ReviewFailedError);
      const text = (err as Error).message;
      expect(text).toContain(message);
      // eslint-disable-next-line no-control-regex
      expect(text, 'raw control bytes in the error').not.toMatch(/[\x00-\x08\x0b-\x1f\x7f\x9b]/);
      expect(readdirSync(staging)).toEqual([]);
      expect(readdirSync(base).sort()).toEqual(['dir', 'tmp']);
      expect(readdirSync(dir).sort()).toEqual(['keep', 'same']);
    });
  });
});
