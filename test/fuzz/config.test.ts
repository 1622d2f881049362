// Fuzzes config loading (config/load.ts + schema.ts): valid config files mutated at the text level
// (truncated, tokens spliced in, lines duplicated, random bytes) must give either a config whose every
// value passes its key's schema, or a ConfigInvalidError / ConfigUnknownKeyError that names the file and
// maps to exit 65 — never another exception, never a hang.
import * as v from 'valibot';
import { expect, it } from 'vitest';
import { exitCodeFor } from '../../src/host/cli/exit-codes.js';
import { ConfigInvalidError, ConfigUnknownKeyError } from '../../src/host/config/errors.js';
import { parseConfigText } from '../../src/host/config/load.js';
import { CONFIG_KEYS, isConfigKey } from '../../src/host/config/schema.js';
import { randomBytes } from './gen.js';
import { FUZZ_TIMEOUT_MS, int, pick, runFuzz, type Rng } from './rng.js';

const FILE = '/fuzz/config.toml';

const valid = [
  'vcpus = 2\nmemory = "1G"\nbackend = "qemu"\naccel = "tcg"\nimage = "default"\n',
  '# comment\nmemory = 512\n\n[tui]\nstatus = "top"\nprefix = "C-b"\nclipboard = "deny"\nscrollback = 500\n',
  '[firecracker]\nbin = "/usr/bin/firecracker"\nkvm_check = false\njailer = true\njailer_uid = 1000\njailer_gid = 1000\njailer_chroot_base = "/srv/j"\n\n[qemu]\nbin = "qemu-system-x86_64"\n',
  'tui.status = "bottom"\nqemu.bin = \'q\'\ntui = { clipboard = "ask" }\n',
  'image = "0123456789abcdef"\n"vcpus" = 64\n',
];
const tokens = [
  '[',
  ']',
  '[[',
  ']]',
  '=',
  '"',
  "'",
  '"""',
  "'''",
  '\n',
  '.',
  ',',
  '{',
  '}',
  '#',
  '\\',
  '\\u0000',
  '\r\n',
  ' ',
  'vcpus',
  'memory',
  'tui',
  'tui.prefix',
  'firecracker',
  'qemu',
  '__proto__',
  'constructor',
  'prototype',
  '1',
  '-1',
  '0x10',
  '1e999',
  'inf',
  'nan',
  '-0',
  '1_000',
  '99999999999999999999',
  '1979-05-27T07:32:00Z',
  '07:32:00',
  'true',
  'false',
  '"C-["',
  '"64G"',
  '"0M"',
  '[]',
  '[1, "a"]',
  '{ a = { b = 1 } }',
  `tui${'.a'.repeat(8000)}`,
  `a = ${'['.repeat(1200)}`,
  '\u{1f600}',
  '\u0000',
  '\u202e',
];

function mutateText(rng: Rng, s: string): string {
  let out = s;
  for (let k = 1 + int(rng, 6); k > 0; k--) {
    const at = int(rng, out.length + 1);
    switch (int(rng, 5)) {
      case 0:
        out = out.slice(0, at);
        break;
      case 1:
        out = out.slice(0, at) + out.slice(at + 1 + int(rng, 10));
        break;
      case 2: {
        const lines = out.split('\n');
        const l = int(rng, lines.length);
        lines.splice(int(rng, lines.length), 0, lines[l] ?? '');
        out = lines.join('\n');
        break;
      }
      default:
        out = out.slice(0, at) + pick(rng, tokens) + out.slice(at);
    }
  }
  return out;
}

it(
  'config text: a valid config or a ConfigError naming the file (exit 65), nothing else',
  async () => {
    await runFuzz('config', 2000, (rng, _i, show) => {
      const text =
        int(rng, 8) === 0 ? randomBytes(rng, int(rng, 120)).toString('utf8') : mutateText(rng, pick(rng, valid));
      show(text);
      let out: Partial<Record<string, unknown>>;
      try {
        out = parseConfigText(text, FILE);
      } catch (err) {
        if (!(err instanceof ConfigInvalidError || err instanceof ConfigUnknownKeyError)) throw err;
        expect(exitCodeFor(err)).toBe(65);
        expect(err.message.startsWith(FILE)).toBe(true);
        return;
      }
      for (const [key, value] of Object.entries(out)) {
        if (!isConfigKey(key)) throw new Error(`accepted unknown key ${JSON.stringify(key)}`);
        if (!v.is(CONFIG_KEYS[key].schema as v.GenericSchema, value))
          throw new Error(`accepted ${key} = ${JSON.stringify(value)}`);
      }
    });
  },
  FUZZ_TIMEOUT_MS,
);
