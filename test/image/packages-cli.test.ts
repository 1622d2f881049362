/**
 * `--package` names are checked against apt's lists before anything happens: an unknown one is refused
 * with its name, close matches and exit 65, with no VM dir made and no image built (an empty private
 * cache stays without images).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ghostPaths } from '../../src/host/store/paths.js';
import { runCli } from '../helpers/cli.js';

const EXIT_CONFIG = 65;
const home = mkdtempSync(join(tmpdir(), 'vg-pkgcli-'));
const runtime = mkdtempSync(join(tmpdir(), 'vg-pkgcli-run-'));
afterAll(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(runtime, { recursive: true, force: true });
});
const env = { XDG_CACHE_HOME: home, XDG_RUNTIME_DIR: runtime };

describe('an unknown --package', () => {
  it('exec --package pyton3: exit 65 naming it and python3, before any VM dir or image build', async () => {
    const r = await runCli(['exec', '--package', 'jq', '--package', 'pyton3', '--', 'true'], { env });
    expect(r.code, r.stderr).toBe(EXIT_CONFIG);
    expect(r.stderr).toMatch(/--package: no Debian package "pyton3" \(did you mean python3[,?]/);
    expect(r.stderr).not.toContain('"jq"'); // the known one is not blamed
    expect(r.stdout.length).toBe(0);
    const vmsDir = ghostPaths({ ...process.env, ...env }).vmsDir;
    expect(vmsDir.startsWith(runtime)).toBe(true);
    expect(existsSync(vmsDir) ? readdirSync(vmsDir) : []).toEqual([]);
    const imagesDir = join(home, 'virtualghost', 'images');
    expect(existsSync(imagesDir) ? readdirSync(imagesDir) : []).toEqual([]);
  });

  it('image build --package, and image.packages from the environment, are checked the same way', async () => {
    const build = await runCli(['image', 'build', '--package', 'jqq'], { env });
    expect(build.code, build.stderr).toBe(EXIT_CONFIG);
    expect(build.stderr).toMatch(/--package: no Debian package "jqq" \(did you mean jq[,?]/);
    const fromEnv = await runCli(['exec', '--', 'true'], { env: { ...env, VIRTUALGHOST_IMAGE__PACKAGES: 'curll' } });
    expect(fromEnv.code, fromEnv.stderr).toBe(EXIT_CONFIG);
    expect(fromEnv.stderr).toMatch(
      /image\.packages \(from VIRTUALGHOST_IMAGE__PACKAGES\): no Debian package "curll" \(did you mean curl[,?]/,
    );
    expect(readdirSync(join(home, 'virtualghost')).filter((n) => n === 'images' || n.startsWith('.tmp'))).toEqual([]);
  });

  it('a name that is not a Debian package name is refused by the flag check, before apt is asked', async () => {
    const r = await runCli(['exec', '--package', '-oAPT::x=1', '--', 'true'], { env });
    expect(r.code, r.stderr).toBe(EXIT_CONFIG);
    expect(r.stderr).toContain('flag --package: `image.packages` must be');
    expect(r.stderr).toContain('"-oAPT::x=1" is not a Debian package name');
  });
});

describe('image.packages in the config file', () => {
  const config = join(home, 'config');
  const cenv = { ...env, XDG_CONFIG_HOME: config };
  const file = join(config, 'virtualghost', 'config.toml');

  it('config set writes a TOML list under [image]; show prints it as TOML; it cannot sit beside image = ID', async () => {
    const set = await runCli(['config', 'set', 'image.packages', 'jq git'], { env: cenv });
    expect(set.code, set.stderr).toBe(0);
    expect(readFileSync(file, 'utf8')).toMatch(/^\[image\]\npackages = \[ "jq", "git" \]$/m);
    const show = await runCli(['config', 'show', '--effective'], { env: cenv });
    expect(show.stdout.toString()).toContain(`image.packages = ["jq","git"]  # from file ${file}`);
    const before = readFileSync(file, 'utf8');
    const clash = await runCli(['config', 'set', 'image', '0123456789abcdef'], { env: cenv });
    expect(clash.code, clash.stderr).toBe(EXIT_CONFIG);
    expect(clash.stderr).toContain('`[image]` keys (image.packages) are set there, and TOML cannot also hold `image`');
    expect(readFileSync(file, 'utf8')).toBe(before); // not dropped silently
  });

  it('config edit: the new-file template has image.packages as a TOML list that can be uncommented as it is', async () => {
    rmSync(file, { force: true });
    const script = join(home, 'ed.sh');
    writeFileSync(
      script,
      `sed -i -e 's/^# \\[image\\]$/[image]/' -e 's/^# packages = \\[\\]  #/packages = ["jq"]  #/' "$1"\n`,
    );
    const r = await runCli(['config', 'edit'], { env: { ...cenv, EDITOR: `sh ${script}`, VISUAL: '' } });
    expect(r.code, r.stderr).toBe(0);
    const get = await runCli(['config', 'get', 'image.packages', '--json'], { env: cenv });
    expect(JSON.parse(get.stdout.toString())).toMatchObject({ value: ['jq'], origin: 'file' });
  });

  it('image = ID still loads; extra packages beside an image id are refused with 65 before any VM dir', async () => {
    mkdirSync(join(config, 'virtualghost'), { recursive: true });
    writeFileSync(file, 'image = "0123456789abcdef"\n');
    const get = await runCli(['config', 'get', 'image'], { env: cenv });
    expect(get.code, get.stderr).toBe(0);
    expect(get.stdout.toString()).toBe('0123456789abcdef\n');
    const r = await runCli(['exec', '--package', 'jq', '--', 'true'], { env: cenv });
    expect(r.code, r.stderr).toBe(EXIT_CONFIG);
    expect(r.stderr).toContain(
      `--package adds packages to the default image, but image is 0123456789abcdef (from ${file})`,
    );
    const vmsDir = ghostPaths({ ...process.env, ...cenv }).vmsDir;
    expect(existsSync(vmsDir) ? readdirSync(vmsDir) : []).toEqual([]);
  });
});
