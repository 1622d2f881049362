/**
 * The npm package as a user gets it: `npm pack` (prepack builds dist/), then the tarball installed the two
 * ways people do — `npm install -g` (here into a temp prefix) and `npx` — and run from an unrelated cwd.
 * The installed copy must compute the same image id as this checkout (same payload, so the shared image
 * cache serves it and no image is built), name its install form in doctor, and run a real VM.
 * Cost here: npm pack ≈ 2 s, each install ≈ 10–15 s unloaded (npm compiles node-pty's native module; npx
 * also downloads the dependencies), each exec ≈ 2 s: ≈ 35 s for the file, up to ≈ 60 s on a loaded machine.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRODUCT_VERSION } from '../../src/shared/version.js';
import { runCli } from '../helpers/cli.js';
import { runTool, said } from '../helpers/run-tool.js';

const REPO = join(import.meta.dirname, '..', '..');
const NPM_TIMEOUT = 240_000;

describe('the npm package (npm pack → npm install -g / npx)', () => {
  let dir = '';
  let tarball = '';
  let checkoutImageId = '';
  // npx gets its own npm cache: it keeps one install per tarball path there, which must not pile up in
  // ~/.npm. `npm install -g` uses the user's cache (filled by `npm ci`) with --prefer-offline instead.
  const npxEnv = (): NodeJS.ProcessEnv => ({
    npm_config_cache: join(dir, 'npm-cache'),
    npm_config_update_notifier: 'false',
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vg-npm-package-'));
    const pack = await runTool('npm', ['pack', '--pack-destination', dir], { cwd: REPO, timeoutMs: NPM_TIMEOUT });
    expect(pack.code, said(pack)).toBe(0);
    const files = readdirSync(dir).filter((f) => f.endsWith('.tgz'));
    expect(files).toEqual([`virtualghost-${PRODUCT_VERSION}.tgz`]);
    tarball = join(dir, files[0] ?? '');
    const v = await runCli(['version', '--json']);
    expect(v.code, said(v)).toBe(0);
    checkoutImageId = (JSON.parse(v.stdout.toString()) as { imageRecipeId: string }).imageRecipeId;
    expect(checkoutImageId).toMatch(/^[0-9a-f]{16}$/);
  }, NPM_TIMEOUT);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the tarball ships only the run-time files: no sources, tests, scripts or source maps', async () => {
    const list = await runTool('tar', ['tzf', tarball]);
    const paths = list.stdout.toString().trim().split('\n');
    expect(paths).toEqual(
      expect.arrayContaining([
        'package/bin/virtualghost.js',
        'package/dist/host/cli/main.js',
        'package/dist/agent/ghostly-agent.cjs',
        'package/guest-image/init.sh',
        'package/guest-image/initramfs-init.sh',
        'package/guest-image/ghostly-helper.c',
        'package/host-packages.json',
        'package/README.md',
      ]),
    );
    expect(
      paths.filter((p) => /^package\/(src|test|scripts|dist\/test|dist\/guest)\/|\.map$|\.d\.ts$|tsbuildinfo/.test(p)),
    ).toEqual([]);
  });

  it(
    '`npm install -g` into a prefix: version, doctor and `exec -- echo ok` work from /, on the same image id',
    async () => {
      const prefix = join(dir, 'prefix');
      const install = await runTool(
        'npm',
        ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball],
        { cwd: dir, timeoutMs: NPM_TIMEOUT },
      );
      expect(install.code, said(install)).toBe(0);
      const bin = join(prefix, 'bin', 'virtualghost');
      const pkgRoot = join(prefix, 'lib', 'node_modules', 'virtualghost');

      const v = await runTool(bin, ['version', '--json'], { cwd: '/' });
      expect(v.code, said(v)).toBe(0);
      expect(JSON.parse(v.stdout.toString())).toMatchObject({
        version: PRODUCT_VERSION,
        installForm: 'npm-package',
        imageRecipeId: checkoutImageId,
      });

      const doctor = await runTool(bin, ['doctor', '--json'], { cwd: '/' });
      expect(doctor.code, said(doctor)).toBe(0);
      expect(JSON.parse(doctor.stdout.toString())).toMatchObject({ install: { form: 'npm-package', root: pkgRoot } });
      const doctorText = await runTool(bin, ['doctor'], { cwd: '/' });
      expect(doctorText.stdout.toString()).toMatch(
        new RegExp(`^install +npm package \\(${pkgRoot.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)$`, 'm'),
      );

      const exec = await runTool(bin, ['exec', '--', 'echo', 'ok'], { cwd: '/', timeoutMs: 110_000 });
      expect(exec.code, said(exec)).toBe(0);
      expect(exec.stdout.toString()).toBe('ok\n');
    },
    NPM_TIMEOUT,
  );

  it(
    '`npx` (dependencies hoisted beside the package, not inside it): `exec -- echo ok` works from an unrelated dir',
    async () => {
      const cwd = join(dir, 'elsewhere');
      mkdirSync(cwd);
      const r = await runTool('npx', ['--yes', `--package=${tarball}`, 'virtualghost', 'exec', '--', 'echo', 'ok'], {
        cwd,
        env: npxEnv(),
        timeoutMs: NPM_TIMEOUT,
      });
      expect(r.code, said(r)).toBe(0);
      expect(r.stdout.toString()).toBe('ok\n');
    },
    NPM_TIMEOUT,
  );
});
