/**
 * bin/virtualghost.js runs the CLI as one bundle with a V8 code cache (src/host/cli/bundle-loader.ts). The
 * cache is executable state in the user's cache dir, so it is held to the trust model: a private dir, a
 * file of ours opened without following links, written atomically; anything wrong means no cache, never
 * a failed command. And a bundle older than the last tsc build is never run.
 */
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chooseBundle } from '../../src/host/cli/bundle-loader.js';
import { runCli } from '../helpers/cli.js';
import { said } from '../helpers/run-tool.js';

const REPO_DIST = join(import.meta.dirname, '..', '..', 'dist');

interface CliJson {
  form: string;
  codeCache: string;
  reason?: string;
}

describe('the CLI bundle and its code cache', () => {
  let home = '';
  let cacheDir = '';
  const env = (): NodeJS.ProcessEnv => ({ XDG_CACHE_HOME: join(home, 'cache') });
  const cli = async (extraEnv: NodeJS.ProcessEnv = {}): Promise<CliJson> => {
    const r = await runCli(['version', '--json'], { env: { ...env(), ...extraEnv } });
    expect(r.code, said(r)).toBe(0);
    return (JSON.parse(r.stdout.toString()) as { cli: CliJson }).cli;
  };
  const cacheFiles = (): string[] => readdirSync(cacheDir).filter((f) => f.startsWith('cli-'));

  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'vg-cli-bundle-'));
    cacheDir = join(home, 'cache', 'virtualghost', 'code-cache');
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  it('this checkout runs the bundle: the first run makes a 0600 cache in a 0700 dir, the next accepts it', async () => {
    expect(chooseBundle(REPO_DIST), 'the bundle is stale: `npm run build` makes it').toHaveProperty('bundle');
    expect(await cli()).toEqual({ form: 'bundle', codeCache: 'absent' });
    const [file] = cacheFiles();
    expect(file).toMatch(/^cli-[0-9a-f]{24}-version\.v8$/);
    expect(statSync(cacheDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(cacheDir, file ?? '')).mode & 0o777).toBe(0o600);
    expect(await cli()).toEqual({ form: 'bundle', codeCache: 'accepted' });
    // No temp files left beside it.
    expect(readdirSync(cacheDir)).toEqual([file]);
  });

  it('a damaged cache is rejected, the command still works, and the next run has a good one', async () => {
    await cli();
    const file = join(cacheDir, cacheFiles()[0] ?? '');
    writeFileSync(file, Buffer.alloc(statSync(file).size, 0x5a));
    expect((await cli()).codeCache).toBe('rejected');
    expect((await cli()).codeCache).toBe('accepted');
  });

  it('a cache that is a symlink is not followed: not read, and replaced by a file of ours', async () => {
    await cli();
    const file = join(cacheDir, cacheFiles()[0] ?? '');
    const elsewhere = join(home, 'planted.v8');
    writeFileSync(elsewhere, readFileSync(file), { mode: 0o600 });
    rmSync(file);
    symlinkSync(elsewhere, file);
    expect((await cli()).codeCache).toBe('absent');
    expect(lstatSync(file).isSymbolicLink()).toBe(false);
    expect(readFileSync(elsewhere).length).toBeGreaterThan(0); // the link's target was not written through
  });

  it('a cache others can write is not read', async () => {
    await cli();
    chmodSync(join(cacheDir, cacheFiles()[0] ?? ''), 0o666);
    expect((await cli()).codeCache).toBe('absent');
  });

  it.skipIf(process.getuid?.() !== 0)(
    'a code-cache dir owned by another user turns the cache off (as root)',
    async () => {
      mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
      chownSync(cacheDir, 65534, 65534);
      const r = await cli();
      expect(r).toMatchObject({ form: 'bundle', codeCache: 'off' });
      expect(r.reason).toContain(cacheDir);
      expect(readdirSync(cacheDir)).toEqual([]);
    },
  );

  it('VIRTUALGHOST_CLI_BUNDLE=0 runs the modules', async () => {
    expect(await cli({ VIRTUALGHOST_CLI_BUNDLE: '0' })).toEqual({
      form: 'modules',
      codeCache: 'off',
      reason: 'VIRTUALGHOST_CLI_BUNDLE=0',
    });
  });
});

describe('chooseBundle', () => {
  let dist = '';
  beforeEach(() => {
    dist = mkdtempSync(join(tmpdir(), 'vg-dist-'));
    mkdirSync(join(dist, 'host', 'cli'), { recursive: true });
  });
  afterEach(() => rmSync(dist, { recursive: true, force: true }));
  const at = (file: string, secondsAgo: number): void => {
    writeFileSync(join(dist, file), '');
    const t = new Date(Date.now() - secondsAgo * 1000);
    utimesSync(join(dist, file), t, t);
  };

  it('no bundle: the modules', () => {
    expect(chooseBundle(dist)).toMatchObject({ reason: expect.stringContaining('npm run build') });
  });

  it('a bundle newer than every tsc build is run; one older than any of them is not', () => {
    at('host/cli/main.bundle.cjs', 10);
    at('host.tsbuildinfo', 20);
    at('shared.tsbuildinfo', 30);
    expect(chooseBundle(dist)).toEqual({ bundle: join(dist, 'host', 'cli', 'main.bundle.cjs') });
    at('shared.tsbuildinfo', 5); // src/shared rebuilt by `tsc -b` alone: the bundle holds its old code
    expect(chooseBundle(dist)).toMatchObject({ reason: expect.stringContaining('older than the last tsc build') });
  });

  it('an installed package (no tsbuildinfo files) runs its bundle', () => {
    at('host/cli/main.bundle.cjs', 10);
    expect(chooseBundle(dist)).toHaveProperty('bundle');
  });
});
