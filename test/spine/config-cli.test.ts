/** `virtualghost config` and a bad config file, through the CLI: precise errors (file:line:col, key, expectation), exit 65. */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ghostPaths } from '../../src/host/store/paths.js';
import { runCli } from '../helpers/cli.js';

const EXIT_CONFIG = 65;
const file = ghostPaths().configFile;
const writeConfig = (text: string): void => {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
};
// The XDG dirs are shared by every test file: never leave a config behind.
afterEach(() => rmSync(file, { force: true }));

describe('a corrupt config file', () => {
  it('invalid TOML: config.toml:LINE:COL and exit 65, for config commands and for exec (before any VM boots)', async () => {
    writeConfig('vcpus = 1\nmemory = "1G\nbackend = "qemu"\n');
    for (const args of [['config', 'show'], ['config', 'get', 'vcpus'], ['exec', '--', 'true']]) {
      const r = await runCli(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(EXIT_CONFIG);
      const m = /config\.toml:(\d+):(\d+): not valid TOML/.exec(r.stderr);
      expect(m, r.stderr).not.toBeNull();
      expect(Number(m?.[1])).toBe(2); // the unterminated string
      expect(Number(m?.[2])).toBeGreaterThan(0);
      expect(r.stderr).toContain(file);
      expect(r.stdout.length).toBe(0);
    }
  });

  it('a value of the wrong type names file:3:1, the key, what was expected and what was found', async () => {
    writeConfig('# my settings\nmemory = "1G"\nvcpus = "two"\n');
    const r = await runCli(['config', 'show']);
    expect(r.code, r.stderr).toBe(EXIT_CONFIG);
    expect(r.stderr).toContain(`${file}:3:1:`);
    expect(r.stderr).toMatch(/`vcpus` must be .*integer/);
    expect(r.stderr).toContain('"two"');
  });

  it('an unknown key suggests the right one', async () => {
    writeConfig('vcpu = 2\n');
    const r = await runCli(['config', 'get', 'memory']);
    expect(r.code, r.stderr).toBe(EXIT_CONFIG);
    expect(r.stderr).toContain(`${file}:1:1:`);
    expect(r.stderr).toMatch(/unknown key `vcpu`.*did you mean `vcpus`/);
  });
});

describe('config set / get', () => {
  it('`set memory 1G` then `get memory` prints 1024 (MiB); the file is valid TOML the loader reads back', async () => {
    const set = await runCli(['config', 'set', 'memory', '1G']);
    expect(set.code, set.stderr).toBe(0);
    expect(readFileSync(file, 'utf8')).toMatch(/memory\s*=\s*"1024M"/);
    const get = await runCli(['config', 'get', 'memory']);
    expect(get.code, get.stderr).toBe(0);
    expect(get.stdout.toString()).toBe('1024\n');
    const show = await runCli(['config', 'show', '--effective', '--json']);
    expect(JSON.parse(show.stdout.toString())).toMatchObject({ memory: { value: 1024, origin: 'file' }, vcpus: { origin: 'default' } });
  });

  it('`set vcpus 0` is refused, names the key, and leaves the file as it was', async () => {
    await runCli(['config', 'set', 'vcpus', '2']);
    const before = readFileSync(file, 'utf8');
    const r = await runCli(['config', 'set', 'vcpus', '0']);
    expect(r.code).toBe(EXIT_CONFIG);
    expect(r.stderr).toMatch(/`vcpus`/);
    expect(r.stderr).toContain('0');
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect((await runCli(['config', 'get', 'vcpus'])).stdout.toString()).toBe('2\n');
  });

  it('an environment variable overrides the file and `show --effective` says so', async () => {
    await runCli(['config', 'set', 'vcpus', '2']);
    const r = await runCli(['config', 'show', '--effective'], { env: { VIRTUALGHOST_VCPUS: '3' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.toString()).toMatch(/^vcpus = 3 +# from env$/m);
    const bad = await runCli(['config', 'get', 'vcpus'], { env: { VIRTUALGHOST_VCPUS: 'lots' } });
    expect(bad.code).toBe(EXIT_CONFIG);
    expect(bad.stderr).toContain('VIRTUALGHOST_VCPUS');
  });
});
