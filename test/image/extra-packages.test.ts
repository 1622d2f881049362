/**
 * The one real build of an image with an extra package (~50–120 s under TCG load): `--package jq` gives
 * an image of its own (a new id beside the default's, which stays as it was), built once in a private
 * cache; jq runs in its guest; the next run and `image build --package jq` use it without building again.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GUEST_PACKAGES } from '../../src/host/image/recipe.js';
import { runCli } from '../helpers/cli.js';
import { linkedCache, type LinkedCache } from '../helpers/image-copy.js';
import { currentImage } from '../helpers/image.js';
import { said } from '../helpers/run-tool.js';

let c: LinkedCache;
beforeAll(async () => {
  c = linkedCache(await currentImage());
});
afterAll(() => c?.remove());

describe('exec --package jq', () => {
  it('builds one image with jq, runs jq in it, and reuses that image on the next run', async () => {
    expect(GUEST_PACKAGES).not.toContain('jq'); // else this would prove nothing
    const env = { XDG_CACHE_HOME: c.home };
    const first = await runCli(
      ['exec', '--cold', '--package', 'jq', '--', 'sh', '-c', 'echo \'{"a":[1,2]}\' | jq -c .a'],
      { env, timeoutMs: 420_000 },
    );
    expect(first.code, said(first)).toBe(0);
    expect(first.stdout.toString()).toBe('[1,2]\n');
    expect(first.stderr).toContain('building guest image');

    const ids = readdirSync(c.imagesDir).filter((n) => !n.startsWith('.'));
    expect(ids).toHaveLength(2);
    expect(ids).toContain(c.id); // the default image is still there, under its own id
    const id = ids.find((i) => i !== c.id) ?? '';
    const manifestFile = join(c.imagesDir, id, 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as {
      recipe: { extraPackages?: string[] };
      createdAt: string;
    };
    expect(manifest.recipe.extraPackages).toEqual(['jq']);
    const builtAt = statSync(manifestFile).mtimeMs;

    const second = await runCli(['exec', '--cold', '--package', 'jq', '--package', 'jq', '--', 'jq', '--version'], {
      env,
      timeoutMs: 180_000,
    });
    expect(second.code, said(second)).toBe(0);
    expect(second.stdout.toString()).toMatch(/^jq-1\.\d/);
    expect(second.stderr).not.toContain('building guest image');

    const build = await runCli(['image', 'build', '--package', 'jq', '--json'], { env });
    expect(build.code, said(build)).toBe(0);
    expect(JSON.parse(build.stdout.toString())).toMatchObject({ id, packages: ['jq'] });
    expect(build.stderr).toBe('');
    expect(
      readdirSync(c.imagesDir)
        .filter((n) => !n.startsWith('.'))
        .sort(),
    ).toEqual([...ids].sort());
    expect(statSync(manifestFile).mtimeMs).toBe(builtAt);
  }, 600_000);
});
