/**
 * `image ls` and `image prune` on a cache of small stand-in images (real manifest.json files, files of
 * the recorded sizes): ls names each image's source (recipe, or OCI reference + digest) and last use;
 * prune --older-than removes only images not used within that time, and prune without it every image
 * nothing uses. The CLI runs as a user runs it, against its own XDG_CACHE_HOME.
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'vg-prune-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const images = join(tmp, 'cache', 'virtualghost', 'images');
const env = { XDG_CACHE_HOME: join(tmp, 'cache') };
const DIGEST = `sha256:${'ab'.repeat(32)}`;

function fakeImage(id: string, source: boolean, usedDaysAgo: number): void {
  const dir = join(images, id);
  mkdirSync(dir, { recursive: true });
  for (const f of ['vmlinux', 'initrd.img', 'rootfs.ext4']) writeFileSync(join(dir, f), 'x'.repeat(10));
  const recipe = {
    builder: 1,
    suite: 'bookworm',
    kernel: { name: 'k', version: '1' },
    modules: [],
    packages: [],
    rootfsSizeMiB: 1,
    payload: 'p',
  };
  writeFileSync(
    join(dir, 'manifest.json'),
    JSON.stringify({
      id,
      recipe,
      ...(source
        ? { source: { kind: 'oci', ref: '/srv/layouts/app', manifestDigest: DIGEST, config: {}, base: 'f'.repeat(16) } }
        : {}),
      kernelRelease: '6.1.0-test',
      createdAt: '2026-01-01T00:00:00.000Z',
      buildSeconds: 1,
      bytes: { vmlinux: 10, initrd: 10, rootfsApparent: 10 },
    }),
  );
  writeFileSync(join(dir, 'last-used'), '');
  const t = new Date(Date.now() - usedDaysAgo * 86400_000);
  utimesSync(join(dir, 'last-used'), t, t);
}

describe('image ls and prune', () => {
  it('ls shows source and last use; prune --older-than keeps recent images, prune without it removes the rest', async () => {
    fakeImage('aaaaaaaaaaaaaaaa', true, 40);
    fakeImage('bbbbbbbbbbbbbbbb', true, 1);
    fakeImage('cccccccccccccccc', false, 2);
    const ls = await runCli(['image', 'ls'], { env });
    expect(ls.code).toBe(0);
    const out = ls.stdout.toString();
    expect(out).toMatch(/^ID\s+LAST USED\s+SIZE\s+SOURCE$/m);
    expect(out).toMatch(
      new RegExp(
        `^aaaaaaaaaaaaaaaa\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d\\s+0 MB\\s+oci:/srv/layouts/app@${DIGEST}$`,
        'm',
      ),
    );
    expect(out).toMatch(/^cccccccccccccccc\s+.*recipe bookworm$/m);
    const json = JSON.parse((await runCli(['image', 'ls', '--json'], { env })).stdout.toString()) as Array<{
      id: string;
      manifestDigest?: string;
      lastUsed: string;
    }>;
    expect(json.find((i) => i.id === 'aaaaaaaaaaaaaaaa')?.manifestDigest).toBe(DIGEST);

    const bad = await runCli(['image', 'prune', '--older-than', 'a month'], { env });
    expect([bad.code, bad.stderr]).toEqual([
      64,
      expect.stringContaining('--older-than "a month": expected a number and a unit'),
    ]);

    const old = await runCli(['image', 'prune', '--older-than', '30d'], { env });
    expect([old.code, old.stdout.toString()]).toEqual([0, 'removed aaaaaaaaaaaaaaaa (0 MB)\n']);
    expect(existsSync(join(images, 'aaaaaaaaaaaaaaaa'))).toBe(false);
    expect(existsSync(join(images, 'bbbbbbbbbbbbbbbb'))).toBe(true);

    const all = await runCli(['image', 'prune'], { env });
    expect(all.code).toBe(0);
    expect(all.stdout.toString()).toContain('removed bbbbbbbbbbbbbbbb');
    expect(all.stdout.toString()).toContain('removed cccccccccccccccc'); // not the current recipe's image
  }, 60_000);
});
