/**
 * The one real image build in this suite (~50–120 s under TCG load): the current recipe's image with a
 * garbage manifest.json used to be rebuilt on every run, and each rebuild then failed with "vanished right
 * after it was built" (exit 66): the rename onto the damaged dir failed and was taken for another build
 * having won. Now the damaged dir is moved aside, the image is built once, works, and the next run uses it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readImage } from '../../src/host/image/cache.js';
import { runCli } from '../helpers/cli.js';
import { linkedCache, replaceFile, type LinkedCache } from '../helpers/image-copy.js';
import { currentImage } from '../helpers/image.js';
import { said } from '../helpers/run-tool.js';

let c: LinkedCache;
beforeAll(async () => {
  c = linkedCache(await currentImage());
});
afterAll(() => c?.remove());

describe('the default image with a garbage manifest.json', () => {
  it('is rebuilt once, boots, and is used as it is by the next run', async () => {
    replaceFile(join(c.dir, 'manifest.json'), '\u0000\u0000garbage');
    const env = { XDG_CACHE_HOME: c.home };
    const first = await runCli(['exec', '--cold', '--', 'echo', 'booted'], { env, timeoutMs: 420_000 });
    expect(first.code, said(first)).toBe(0);
    expect(first.stdout.toString()).toBe('booted\n');
    expect(first.stderr).toContain(
      `image ${c.id} is damaged (${join(c.dir, 'manifest.json')} is not valid JSON): removing it and building it again`,
    );
    const rebuilt = readImage(c.imagesDir, c.id);
    expect(rebuilt.state).toBe('ok');
    // Built by this version: the boot files' checksums are recorded. Nothing left beside it.
    expect(JSON.parse(readFileSync(join(c.dir, 'manifest.json'), 'utf8'))).toHaveProperty('sha256.vmlinux');
    expect(readdirSync(c.imagesDir)).toEqual([c.id]);

    const t0 = Date.now();
    const second = await runCli(['image', 'build', '--json'], { env });
    expect(second.code, said(second)).toBe(0);
    expect(JSON.parse(second.stdout.toString())).toMatchObject({ id: c.id });
    expect(second.stderr).toBe('');
    expect(Date.now() - t0).toBeLessThan(20_000);
  }, 480_000);
});
