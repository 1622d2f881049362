/**
 * A damaged image in the cache (issue #11 item 7) is detected before any VM boots, from what its manifest
 * records, and reported with the file and what is wrong with it. An image asked for by id is never
 * rebuilt behind the user's back: the error names the fix and exits 66. No VM and no build here: the
 * real current image is hard-linked into a private cache and damaged there (test/helpers/image-copy.ts).
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { publishImage } from '../../src/host/image/build.js';
import { describeDamage, readImage, type CachedImage, type ImageCheck } from '../../src/host/image/cache.js';
import { sha256File, stampVerified } from '../../src/host/image/verify.js';
import { runCli } from '../helpers/cli.js';
import { linkedCache, replaceFile, type LinkedCache } from '../helpers/image-copy.js';
import { currentImage } from '../helpers/image.js';
import { said } from '../helpers/run-tool.js';

let real: CachedImage;
let c: LinkedCache;
beforeAll(async () => {
  real = await currentImage();
});
beforeEach(() => {
  c = linkedCache(real);
});
afterEach(() => c.remove());

const damage = (r: ImageCheck): string => (r.state === 'damaged' ? describeDamage(r) : `not damaged: ${r.state}`);
const head = (file: string, bytes: number): Buffer => readFileSync(file).subarray(0, bytes);

describe('readImage says why an image is unusable', () => {
  it('a truncated rootfs.ext4 or vmlinux: the file, its size and the size the manifest records', () => {
    const rootfs = join(c.dir, 'rootfs.ext4');
    replaceFile(rootfs, '', 1 << 20);
    expect(damage(readImage(c.imagesDir, c.id))).toBe(
      `${rootfs} is 1048576 bytes; manifest.json records ${real.manifest.bytes.rootfsApparent}`,
    );

    c.remove();
    c = linkedCache(real);
    const vmlinux = join(c.dir, 'vmlinux');
    replaceFile(vmlinux, head(real.kernel, 4096));
    expect(damage(readImage(c.imagesDir, c.id))).toBe(
      `${vmlinux} is 4096 bytes; manifest.json records ${real.manifest.bytes.vmlinux}`,
    );
    // The shared image behind the links is untouched.
    expect(statSync(real.kernel).size).toBe(real.manifest.bytes.vmlinux);
    expect(readImage(join(real.dir, '..'), real.id).state).toBe('ok');
  });

  it('a missing or unparsable manifest.json, a missing file', () => {
    const manifest = join(c.dir, 'manifest.json');
    replaceFile(manifest, '{"id": "garb');
    expect(damage(readImage(c.imagesDir, c.id))).toBe(`${manifest} is not valid JSON`);
    rmSync(manifest);
    expect(damage(readImage(c.imagesDir, c.id))).toBe(`${manifest} is missing`);
    replaceFile(manifest, JSON.stringify({ ...real.manifest, id: '0000000000000000' }));
    expect(damage(readImage(c.imagesDir, c.id))).toBe(`${manifest} does not describe image ${c.id}`);
    replaceFile(manifest, JSON.stringify(real.manifest));
    rmSync(join(c.dir, 'initrd.img'));
    expect(damage(readImage(c.imagesDir, c.id))).toBe(`${join(c.dir, 'initrd.img')} is missing`);
    expect(readImage(c.imagesDir, 'fedcba9876543210').state).toBe('absent');
  });

  it('a boot file changed but not its size: caught by the sha256 in the manifest, which is checked again only after a change', () => {
    const manifest = join(c.dir, 'manifest.json');
    replaceFile(
      manifest,
      JSON.stringify({
        ...real.manifest,
        sha256: { vmlinux: sha256File(real.kernel), initrd: sha256File(real.initrd) },
      }),
    );
    expect(readImage(c.imagesDir, c.id).state).toBe('ok');
    const stamp = join(c.dir, 'verified.json');
    expect(existsSync(stamp)).toBe(true);

    const initrd = join(c.dir, 'initrd.img');
    const bytes = readFileSync(real.initrd);
    bytes[1000] = (bytes[1000] ?? 0) ^ 0xff;
    replaceFile(initrd, bytes);
    expect(damage(readImage(c.imagesDir, c.id))).toBe(`${initrd} does not match the sha256 recorded in manifest.json`);

    // The stamp is what saves the hashing on every start: files it vouches for as they are now are not
    // read at all (so a stamp written now, over the damaged file, hides it: only we write the user's cache).
    stampVerified(c.dir, [join(c.dir, 'vmlinux'), initrd]);
    expect(readImage(c.imagesDir, c.id).state).toBe('ok');
  });
});

describe('publishing a build (the rename into images/<id>)', () => {
  /** A small stand-in build dir with a manifest that matches it. */
  function fakeBuild(dir: string, id: string, createdAt: string): void {
    mkdirSync(dir, { recursive: true });
    for (const f of ['vmlinux', 'initrd.img', 'rootfs.ext4']) writeFileSync(join(dir, f), f);
    writeFileSync(
      join(dir, 'manifest.json'),
      JSON.stringify({
        id,
        recipe: {},
        kernelRelease: 'test',
        createdAt,
        buildSeconds: 1,
        bytes: { vmlinux: 7, initrd: 10, rootfsApparent: 11 },
      }),
    );
  }
  const id = 'abcdef0123456789';

  it('replaces a damaged image dir instead of taking it for a winner of the race (and deleting the good build)', () => {
    const imagesDir = join(c.home, 'fake');
    mkdirSync(join(imagesDir, id), { recursive: true });
    writeFileSync(join(imagesDir, id, 'manifest.json'), 'garbage');
    const tmp = join(imagesDir, '.tmp-build');
    fakeBuild(tmp, id, 'ours');
    const img = publishImage(tmp, imagesDir, id);
    expect(img.manifest.createdAt).toBe('ours');
    expect(readdirSync(imagesDir)).toEqual([id]);
  });

  it('a valid image already there wins: ours is removed', () => {
    const imagesDir = join(c.home, 'fake');
    fakeBuild(join(imagesDir, id), id, 'theirs');
    const tmp = join(imagesDir, '.tmp-build');
    fakeBuild(tmp, id, 'ours');
    expect(publishImage(tmp, imagesDir, id).manifest.createdAt).toBe('theirs');
    expect(readdirSync(imagesDir)).toEqual([id]);
  });
});

describe('an image asked for by id is not rebuilt: the error names the file and the fix, exit 66', () => {
  it('--image ID with a truncated vmlinux', async () => {
    const vmlinux = join(c.dir, 'vmlinux');
    replaceFile(vmlinux, head(real.kernel, 4096));
    const r = await runCli(['exec', '--image', c.id, '--', 'true'], { env: { XDG_CACHE_HOME: c.home } });
    expect(r.code, said(r)).toBe(66);
    expect(r.stderr).toContain(
      `image ${c.id} (\`image\` from --image) is damaged: ${vmlinux} is 4096 bytes; manifest.json records ${real.manifest.bytes.vmlinux}.`,
    );
    expect(r.stderr).toContain(`\`virtualghost image rm ${c.id}\``);
    expect(r.stderr).toContain('`virtualghost image build`');
    expect(readdirSync(c.imagesDir)).toEqual([c.id]); // nothing built, nothing moved
  });

  it('image = ID in config.toml with a garbage manifest; `image rm ID` then removes the damaged image', async () => {
    replaceFile(join(c.dir, 'manifest.json'), 'not json');
    const config = mkdtempSync(join(tmpdir(), 'vg-imgcfg-'));
    try {
      mkdirSync(join(config, 'virtualghost'));
      writeFileSync(join(config, 'virtualghost', 'config.toml'), `image = "${c.id}"\n`);
      const env = { XDG_CACHE_HOME: c.home, XDG_CONFIG_HOME: config };
      const r = await runCli(['exec', '--', 'true'], { env });
      expect(r.code, said(r)).toBe(66);
      expect(r.stderr).toContain(
        `image ${c.id} (\`image\` from ${join(config, 'virtualghost', 'config.toml')}) is damaged: ${join(c.dir, 'manifest.json')} is not valid JSON.`,
      );

      const ls = await runCli(['image', 'ls'], { env });
      expect(ls.code, said(ls)).toBe(0);
      expect(ls.stderr).toContain(
        `image ${c.id} is damaged (${join(c.dir, 'manifest.json')} is not valid JSON): remove it with \`virtualghost image rm ${c.id}\``,
      );

      const rm = await runCli(['image', 'rm', c.id], { env });
      expect(rm.code, said(rm)).toBe(0);
      expect(readdirSync(c.imagesDir)).toEqual([]);
      const gone = await runCli(['exec', '--', 'true'], { env });
      expect(gone.code, said(gone)).toBe(66);
      expect(gone.stderr).toContain('is not in');
    } finally {
      rmSync(config, { recursive: true, force: true });
    }
  });

  it('`image rm` takes only image ids, never a path', async () => {
    const r = await runCli(['image', 'rm', '..'], { env: { XDG_CACHE_HOME: c.home } });
    expect(r.code, said(r)).toBe(66);
    expect(existsSync(c.imagesDir)).toBe(true);
  });
});
