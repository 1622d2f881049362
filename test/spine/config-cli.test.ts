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
    for (const args of [
      ['config', 'show'],
      ['config', 'get', 'vcpus'],
      ['exec', '--', 'true'],
    ]) {
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
    expect(JSON.parse(show.stdout.toString())).toMatchObject({
      memory: { value: 1024, origin: 'file' },
      vcpus: { origin: 'default' },
    });
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
    expect(r.stdout.toString()).toMatch(/^vcpus = 3 +# from env VIRTUALGHOST_VCPUS$/m);
    expect(r.stdout.toString()).toMatch(/^memory = "512M" +# from default$/m);
    const flag = await runCli(['config', 'get', 'vcpus', '--json'], { env: { VIRTUALGHOST_VCPUS: '3' } });
    expect(JSON.parse(flag.stdout.toString())).toEqual({
      key: 'vcpus',
      value: 3,
      origin: 'env',
      source: 'VIRTUALGHOST_VCPUS',
    });
    const bad = await runCli(['config', 'get', 'vcpus'], { env: { VIRTUALGHOST_VCPUS: 'lots' } });
    expect(bad.code).toBe(EXIT_CONFIG);
    expect(bad.stderr).toContain('VIRTUALGHOST_VCPUS');
  });
});

describe('each kind of malformed config, through the CLI: exit 65, file:line:col, the key, the expectation', () => {
  const cases: Array<{ kind: string; text: string; at: string; says: RegExp }> = [
    { kind: 'TOML syntax', text: 'vcpus = 1\nbackend = qemu\n', at: ':2:', says: /not valid TOML/ },
    {
      kind: 'wrong type',
      text: 'memory = "1G"\n\n[tui]\nscrollback = "lots"\n',
      at: ':4:1:',
      says: /`tui\.scrollback` must be scrollback lines per tab; got "lots"/,
    },
    { kind: 'out of range', text: 'vcpus = 100\n', at: ':1:1:', says: /`vcpus` must be .*1–64.*got 100/ },
    {
      kind: 'out of range (memory)',
      text: 'vcpus = 2\n  memory = "64M"\n',
      at: ':2:3:',
      says: /`memory` must be .*got "64M".*128M to 64G/,
    },
    {
      kind: 'unknown key',
      text: '[tui]\nstatsu = "top"\n',
      at: ':2:1:',
      says: /unknown key `tui\.statsu` — did you mean `tui\.status`\?/,
    },
    {
      kind: 'unknown table',
      text: 'vcpus = 1\n[tiu]\nstatus = "top"\n',
      at: ':2:1:',
      says: /unknown table `\[tiu\]` — did you mean `\[tui\]`\?/,
    },
    {
      kind: 'unknown empty table',
      text: '[firecraker]\n',
      at: ':1:1:',
      says: /unknown table `\[firecraker\]` — did you mean `\[firecracker\]`\?/,
    },
    { kind: 'a value used as a table', text: '[vcpus]\nn = 2\n', at: ':1:1:', says: /`vcpus` is a value, not a table/ },
    {
      kind: 'a table used as a value',
      text: 'tui = "top"\n',
      at: ':1:1:',
      says: /`tui` is a table, not a value.*tui\.status/,
    },
  ];
  for (const c of cases) {
    it(c.kind, async () => {
      writeConfig(c.text);
      const r = await runCli(['config', 'show']);
      expect(r.code, r.stderr).toBe(EXIT_CONFIG);
      expect(r.stderr).toContain(`${file}${c.at}`);
      expect(r.stderr).toMatch(c.says);
      expect(r.stdout.length).toBe(0);
    });
  }

  it('a bad environment variable value names the variable, the key and the value', async () => {
    for (const [name, value, says] of [
      ['VIRTUALGHOST_MEMORY', '12', /`memory` must be .*got "12"/],
      ['VIRTUALGHOST_TUI__STATUS', 'left', /`tui\.status` must be .*got "left"/],
      ['VIRTUALGHOST_FIRECRACKER__KVM_CHECK', 'yes', /`firecracker\.kvm_check` must be .*got "yes"/],
    ] as const) {
      const r = await runCli(['config', 'show'], { env: { [name]: value } });
      expect(r.code, r.stderr).toBe(EXIT_CONFIG);
      expect(r.stderr).toContain(`environment variable ${name}`);
      expect(r.stderr).toMatch(says);
    }
  });

  it('a VIRTUALGHOST_* variable that names no setting is reported with the closest name (not silently ignored)', async () => {
    const r = await runCli(['config', 'get', 'vcpus'], {
      env: { VIRTUALGHOST_VCPU: '2', VIRTUALGHOST_TUI_STATUS: 'top', VIRTUALGHOST_DEBUG: '' },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.toString()).toBe('1\n');
    expect(r.stderr).toMatch(/ignoring VIRTUALGHOST_VCPU: no such setting — did you mean VIRTUALGHOST_VCPUS\?/);
    expect(r.stderr).toMatch(/ignoring VIRTUALGHOST_TUI_STATUS: .*did you mean VIRTUALGHOST_TUI__STATUS\?/);
    expect(r.stderr).not.toContain('VIRTUALGHOST_DEBUG');
    const quiet = await runCli(['--quiet', 'config', 'get', 'vcpus'], { env: { VIRTUALGHOST_VCPU: '2' } });
    expect(quiet.stderr).toBe('');
  });

  it('a bad flag value names the flag, before any VM boots', async () => {
    const r = await runCli(['exec', '--vcpus', '0', '--', 'true'], { env: { VIRTUALGHOST_VCPUS: '2' } });
    expect(r.code, r.stderr).toBe(EXIT_CONFIG);
    expect(r.stderr).toMatch(/flag --vcpus: `vcpus` must be/);
  });

  it('env overrides the file, and `show --effective` names each source', async () => {
    writeConfig('vcpus = 2\nmemory = "1G"\n');
    const r = await runCli(['config', 'show', '--effective', '--json'], {
      env: { VIRTUALGHOST_MEMORY: '2G', VIRTUALGHOST_ACCEL: 'tcg' },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.toString())).toMatchObject({
      vcpus: { value: 2, origin: 'file', source: file },
      memory: { value: 2048, origin: 'env', source: 'VIRTUALGHOST_MEMORY' },
      accel: { value: 'tcg', origin: 'env', source: 'VIRTUALGHOST_ACCEL' },
      backend: { value: 'auto', origin: 'default' },
    });
  });
});

describe('config unset', () => {
  it('removes the key and keeps the other lines, comments included; the value falls back to its default', async () => {
    writeConfig('# my settings\nvcpus = 2\n\n[tui]\n# where the bar goes\nstatus = "top"\nprefix = "C-b"\n');
    const r = await runCli(['config', 'unset', 'tui.status']);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(
      '# my settings\nvcpus = 2\n\n[tui]\n# where the bar goes\nprefix = "C-b"\n',
    );
    const get = await runCli(['config', 'get', 'tui.status', '--json']);
    expect(JSON.parse(get.stdout.toString())).toEqual({ key: 'tui.status', value: 'bottom', origin: 'default' });
  });

  it('a key that is not set is fine (nothing to do); an unknown one gets a "did you mean" and exit 65', async () => {
    writeConfig('vcpus = 2\n');
    const again = await runCli(['config', 'unset', 'memory']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.toString()).toContain('not set');
    const typo = await runCli(['config', 'unset', 'vcpu']);
    expect(typo.code).toBe(EXIT_CONFIG);
    expect(typo.stderr).toMatch(/unknown key `vcpu` — did you mean `vcpus`\?/);
    expect(readFileSync(file, 'utf8')).toBe('vcpus = 2\n');
  });

  it('removes a misspelt key that the file holds (how one repairs a rejected file), and inline tables too', async () => {
    writeConfig('vcpu = 2\nmemory = "1G"\n');
    expect((await runCli(['config', 'show'])).code).toBe(EXIT_CONFIG);
    expect((await runCli(['config', 'unset', 'vcpu'])).code).toBe(0);
    expect((await runCli(['config', 'show'])).code).toBe(0);
    writeConfig('tui = { status = "top", prefix = "C-b" }\n');
    expect((await runCli(['config', 'unset', 'tui.status'])).code).toBe(0);
    const show = await runCli(['config', 'show', '--effective', '--json']);
    expect(JSON.parse(show.stdout.toString())).toMatchObject({
      'tui.status': { value: 'bottom', origin: 'default' },
      'tui.prefix': { value: 'C-b', origin: 'file' },
    });
  });
});
