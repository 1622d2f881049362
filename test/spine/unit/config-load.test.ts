/** Config loading: key location in TOML, string coercion, the defaults < file < env < flags order, origins. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigInvalidError, ConfigUnknownKeyError } from '../../../src/host/config/errors.js';
import {
  coerce,
  envName,
  loadConfig,
  locateKey,
  readConfigFile,
  setConfigValue,
} from '../../../src/host/config/load.js';
import { defaults } from '../../../src/host/config/schema.js';

const dir = mkdtempSync(join(tmpdir(), 'vg-config-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = (text: string): string => {
  const f = join(dir, `c${n++}.toml`);
  writeFileSync(f, text);
  return f;
};

describe('locateKey', () => {
  const text = [
    '# comment',
    'vcpus = 2',
    '  memory="1G"',
    '',
    '[tui]',
    'status = "top"',
    '  "prefix" = "C-b"',
    '[firecracker]',
    'bin = "/x"',
  ].join('\n');
  it('finds top-level and sectioned keys with 1-based line and column', () => {
    expect(locateKey(text, 'vcpus')).toEqual({ line: 2, col: 1 });
    expect(locateKey(text, 'memory')).toEqual({ line: 3, col: 3 });
    expect(locateKey(text, 'tui.status')).toEqual({ line: 6, col: 1 });
    expect(locateKey(text, 'tui.prefix')).toEqual({ line: 7, col: 3 });
    expect(locateKey(text, 'firecracker.bin')).toEqual({ line: 9, col: 1 });
    // `status` at top level does not exist: not confused with tui.status.
    expect(locateKey(text, 'status')).toEqual({ line: 1, col: 1 });
  });
  it('understands dotted keys at top level', () => {
    expect(locateKey('vcpus = 1\ntui.status = "top"\n', 'tui.status')).toEqual({ line: 2, col: 1 });
  });
});

describe('coerce', () => {
  it("turns env/flag text into the key's type and leaves the rest for validation to reject", () => {
    expect(coerce('vcpus', '4')).toBe(4);
    expect(coerce('vcpus', 'four')).toBe('four');
    expect(coerce('tui.scrollback', '500')).toBe(500);
    expect(coerce('firecracker.kvm_check', 'false')).toBe(false);
    expect(coerce('firecracker.kvm_check', 'true')).toBe(true);
    expect(coerce('firecracker.kvm_check', 'yes')).toBe('yes');
    expect(coerce('memory', '1G')).toBe('1G');
    expect(coerce('memory', '768')).toBe('768');
    expect(coerce('backend', 'qemu')).toBe('qemu');
  });
});

describe('loadConfig', () => {
  it('gives the defaults, from "default", without a file', () => {
    const c = loadConfig(join(dir, 'absent.toml'), {});
    expect(c.values).toEqual(defaults());
    expect(new Set(Object.values(c.origins))).toEqual(new Set(['default']));
  });

  it('layers file < env < flags and remembers each origin', () => {
    const f = file('vcpus = 2\nmemory = "1G"\n[tui]\nstatus = "top"\n');
    const fileOnly = loadConfig(f, {});
    expect(fileOnly.values).toMatchObject({ vcpus: 2, memory: 1024, 'tui.status': 'top' });
    expect(fileOnly.origins).toMatchObject({ vcpus: 'file', memory: 'file', 'tui.status': 'file', backend: 'default' });

    const env = { VIRTUALGHOST_VCPUS: '3', [envName('tui.status')]: 'bottom', VIRTUALGHOST_MEMORY: '' };
    expect(envName('tui.status')).toBe('VIRTUALGHOST_TUI__STATUS');
    const withEnv = loadConfig(f, env);
    expect(withEnv.values).toMatchObject({ vcpus: 3, memory: 1024, 'tui.status': 'bottom' });
    expect(withEnv.origins).toMatchObject({ vcpus: 'env', memory: 'file', 'tui.status': 'env' });

    const withFlags = loadConfig(f, env, { vcpus: '5', memory: '2G', accel: undefined });
    expect(withFlags.values).toMatchObject({ vcpus: 5, memory: 2048, accel: 'auto' });
    expect(withFlags.origins).toMatchObject({ vcpus: 'flag', memory: 'flag', accel: 'default' });
  });

  it('names the environment variable or flag that holds a bad value', () => {
    expect(() => loadConfig(join(dir, 'absent.toml'), { VIRTUALGHOST_VCPUS: 'two' })).toThrow(ConfigInvalidError);
    expect(() => loadConfig(join(dir, 'absent.toml'), { VIRTUALGHOST_VCPUS: 'two' })).toThrow(
      /VIRTUALGHOST_VCPUS.*`vcpus`.*"two"/,
    );
    expect(() => loadConfig(join(dir, 'absent.toml'), {}, { memory: '64M' })).toThrow(/flag --memory.*`memory`/);
    expect(() => loadConfig(join(dir, 'absent.toml'), {}, { backend: 'vmware' })).toThrow(/flag --backend/);
  });

  it('reports a bad file with file:line:col, the key, and what was expected', () => {
    const f = file('# c\n\n[tui]\nscrollback = -1\n');
    expect(() => readConfigFile(f)).toThrow(
      new RegExp(`${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4:1: \`tui.scrollback\` must be`),
    );
    const u = file('memory = "1G"\nvcpu = 2\n');
    expect(() => readConfigFile(u)).toThrow(ConfigUnknownKeyError);
    expect(() => readConfigFile(u)).toThrow(/:2:1: unknown key `vcpu` — did you mean `vcpus`\?/);
  });

  it('setConfigValue validates first and keeps the other keys', () => {
    const f = file('vcpus = 2\n');
    expect(setConfigValue(f, 'memory', '1G')).toBe(1024);
    expect(loadConfig(f, {}).values).toMatchObject({ vcpus: 2, memory: 1024 });
    expect(() => setConfigValue(f, 'vcpus', '0')).toThrow(/`vcpus`/);
    expect(() => setConfigValue(f, 'cpus', '1')).toThrow(/did you mean `vcpus`/);
    expect(loadConfig(f, {}).values).toMatchObject({ vcpus: 2, memory: 1024 });
  });
});

describe('setKeyText / config set keeps the file as the user wrote it', () => {
  const setText = (text: string, key: string, value: string): string => {
    const f = file(text);
    setConfigValue(f, key, value);
    return readFileSync(f, 'utf8');
  };
  it('replaces a value in place, keeping comments (a trailing one too)', () => {
    expect(setText('# mine\nvcpus = 2  # two is plenty\n\n[tui]\nstatus = "top"\n', 'vcpus', '4')).toBe(
      '# mine\nvcpus = 4  # two is plenty\n\n[tui]\nstatus = "top"\n',
    );
    expect(setText('[tui]\n  status = "top"\n', 'tui.status', 'bottom')).toBe('[tui]\n  status = "bottom"\n');
  });
  it('adds a top-level key before the first table, and a table key at the end of its table', () => {
    expect(
      setText('# mine\nvcpus = 2\n\n# the UI\n[tui]\nstatus = "top"\n\n[qemu]\nbin = "/q"\n', 'memory', '1G'),
    ).toBe('# mine\nvcpus = 2\nmemory = "1024M"\n\n# the UI\n[tui]\nstatus = "top"\n\n[qemu]\nbin = "/q"\n');
    expect(setText('vcpus = 2\n[tui]\nstatus = "top"\n\n[qemu]\nbin = "/q"\n', 'tui.prefix', 'C-b')).toBe(
      'vcpus = 2\n[tui]\nstatus = "top"\nprefix = "C-b"\n\n[qemu]\nbin = "/q"\n',
    );
  });
  it('adds a missing table at the end, and writes a fresh file from nothing', () => {
    expect(setText('# mine\nvcpus = 2\n', 'firecracker.jailer', 'true')).toBe(
      '# mine\nvcpus = 2\n\n[firecracker]\njailer = true\n',
    );
    expect(setText('', 'accel', 'tcg')).toBe('accel = "tcg"\n');
  });
  it('falls back to a correct rewrite where the text cannot be edited in place (inline tables)', () => {
    const out = setText('tui = { status = "top" }\n', 'tui.prefix', 'C-b');
    expect(loadConfig(file(out), {}).values).toMatchObject({ 'tui.status': 'top', 'tui.prefix': 'C-b' });
  });
});

describe('a key nested far deeper than any setting', () => {
  it('is an unknown key (exit 65), not a stack overflow', () => {
    const deep = file(`tui${'.a'.repeat(20_000)} = 1\n`);
    expect(() => readConfigFile(deep)).toThrow(ConfigUnknownKeyError);
    expect(() => readConfigFile(deep)).toThrow(/unknown key `tui\.a\.a`/);
  });
});
