/**
 * Loads the effective configuration: defaults < config file < env (VIRTUALGHOST_*) < flags, each value
 * validated against schema.ts and remembered with its origin (`config show --effective`). A bad file is
 * reported with file:line:col, the key, what was expected and what was found.
 */
import { OTHER_ENV_VARS } from './other-env.js';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import * as v from 'valibot';
import { parse as parseToml, TomlError } from 'smol-toml';
import { ConfigInvalidError, ConfigUnknownKeyError } from './errors.js';
import { readConfigText } from './read-file.js';
import { isTable, setKeyText, writeChecked, type Table } from './text-edit.js';
import { findKeyLine } from './toml-file.js';
import {
  closest,
  CONFIG_KEYS,
  defaults,
  isConfigKey,
  suggestKey,
  type ConfigKey,
  type ConfigValues,
} from './schema.js';

export type Origin = 'default' | 'file' | 'env' | 'flag';
export interface LoadedConfig {
  values: ConfigValues;
  origins: Record<ConfigKey, Origin>;
  file: string;
}

/** Where exactly a value came from: the file's path, the env var's name or the flag; nothing for defaults. */
export function originSource(cfg: LoadedConfig, key: ConfigKey): string | undefined {
  switch (cfg.origins[key]) {
    case 'file':
      return cfg.file;
    case 'env':
      return envName(key);
    case 'flag':
      return flagName(key);
    default:
      return undefined;
  }
}

/** The command-line flag that sets a key, where it is not simply `--KEY`. */
const FLAG_NAMES: Partial<Record<ConfigKey, string>> = {
  'net.mode': '--net',
  'net.host_access': '--net-host',
  'image.packages': '--package',
  mounts: '-v',
};
export const flagName = (key: ConfigKey): string => FLAG_NAMES[key] ?? `--${key}`;

/** Parts in the longest setting's name ("tui.status": 2). */
const MAX_KEY_PARTS = Math.max(...Object.keys(CONFIG_KEYS).map((k) => k.split('.').length));

/**
 * Flattens TOML tables into dotted keys: { tui: { status } } → "tui.status". A table nested deeper than
 * any setting stops the descent there (it is an unknown key whatever lies below): `a.b.c.…` 10^5 deep
 * would otherwise overflow the stack instead of being reported.
 */
function flatten(obj: Record<string, unknown>, prefix = '', parts = 1): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  for (const [k, val] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (
      parts <= MAX_KEY_PARTS &&
      val !== null &&
      typeof val === 'object' &&
      !Array.isArray(val) &&
      !(val instanceof Date)
    )
      out.push(...flatten(val as Record<string, unknown>, key, parts + 1));
    else out.push([key, val]);
  }
  return out;
}

/** Line and column of a dotted key's assignment in TOML text (best effort; 1-based). */
export function locateKey(text: string, dotted: string): { line: number; col: number } {
  return findKeyLine(text, dotted) ?? { line: 1, col: 1 };
}

/** Line and column of a `[table]` header (1-based), falling back to the first line. */
function locateTable(text: string, dotted: string): { line: number; col: number } {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const header = /^(\s*)\[\s*([^\]]+?)\s*\]/.exec(lines[i] ?? '');
    if (header?.[2]?.replace(/["']/g, '') === dotted) return { line: i + 1, col: (header[1]?.length ?? 0) + 1 };
  }
  return { line: 1, col: 1 };
}

/** Table names that hold keys: "tui", "firecracker", "qemu". */
const KNOWN_TABLES = [
  ...new Set(
    Object.keys(CONFIG_KEYS)
      .filter((k) => k.includes('.'))
      .map((k) => k.slice(0, k.lastIndexOf('.'))),
  ),
];

/**
 * Tables the schema does not know are refused by name, even when empty (an empty `[tiu]` holds no key
 * that would be reported, but it is still a typo the user wants to hear about).
 */
function checkTables(doc: Record<string, unknown>, text: string, file: string): void {
  for (const [k, val] of Object.entries(doc)) {
    if (val === null || typeof val !== 'object' || Array.isArray(val) || val instanceof Date) continue;
    const name = k;
    if (KNOWN_TABLES.includes(name)) continue;
    const { line, col } = locateTable(text, name);
    const where = `${file}:${line}:${col}`;
    if (isConfigKey(name))
      throw new ConfigInvalidError(
        `${where}: \`${name}\` is a value, not a table: write \`${name} = …\` (${CONFIG_KEYS[name].help})`,
      );
    const hint = suggestTable(name);
    throw new ConfigUnknownKeyError(
      `${where}: unknown table \`[${name}]\`${hint ? ` — did you mean \`[${hint}]\`?` : ''} (tables: ${KNOWN_TABLES.map((t) => `[${t}]`).join(', ')})`,
    );
  }
}

function suggestTable(name: string): string | undefined {
  return closest(name, KNOWN_TABLES);
}

function describe(x: unknown): string {
  return typeof x === 'string' || Array.isArray(x) ? JSON.stringify(x) : `${String(x)} (${typeof x})`;
}

export function validateValue(key: ConfigKey, raw: unknown, where: string): unknown {
  const result = v.safeParse(CONFIG_KEYS[key].schema as v.GenericSchema, raw);
  if (result.success) return result.output;
  const expected = result.issues[0]?.message ?? 'a valid value';
  throw new ConfigInvalidError(
    `${where}: \`${key}\` must be ${CONFIG_KEYS[key].help}; got ${describe(raw)} (${expected})`,
  );
}

export function unknownKey(key: string, where: string): ConfigUnknownKeyError {
  const hint = suggestKey(key);
  return new ConfigUnknownKeyError(
    `${where}: unknown key \`${key}\`${hint ? ` — did you mean \`${hint}\`?` : ''} (see \`virtualghost config show\` for every key)`,
  );
}

export function readConfigFile(file: string): Partial<Record<ConfigKey, unknown>> {
  const text = readConfigText(file);
  if (text === undefined) return {};
  return parseConfigText(text, file);
}

/** The settings in a config file's text (`file` names it in errors); throws only ConfigInvalidError / ConfigUnknownKeyError. */
export function parseConfigText(text: string, file: string): Partial<Record<ConfigKey, unknown>> {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof TomlError) {
      const first = err.message.split('\n')[0] ?? err.message;
      throw new ConfigInvalidError(
        `${file}:${err.line}:${err.column}: not valid TOML: ${first.replace(/^Invalid TOML document: /, '')}`,
        { cause: err },
      );
    }
    throw err;
  }
  checkTables(doc, text, file);
  const out: Partial<Record<ConfigKey, unknown>> = {};
  for (const [key, raw] of flatten(doc)) {
    const { line, col } = locateKey(text, key);
    const where = `${file}:${line}:${col}`;
    // `image` is both a key (the image id) and the table of image.packages.
    if (KNOWN_TABLES.includes(key) && !isConfigKey(key))
      throw new ConfigInvalidError(
        `${where}: \`${key}\` is a table, not a value: write \`[${key}]\` and its keys below it (${Object.keys(
          CONFIG_KEYS,
        )
          .filter((k) => k.startsWith(`${key}.`))
          .join(', ')})`,
      );
    if (!isConfigKey(key)) throw unknownKey(key, where);
    out[key] = validateValue(key, raw, where);
  }
  return out;
}

/** Env and flag values arrive as strings: coerce to what the key's default is (number, boolean, list). */
export function coerce(key: ConfigKey, text: string): unknown {
  if (Array.isArray(CONFIG_KEYS[key].default)) return text.split(/[\s,]+/).filter(Boolean);
  const kind = typeof CONFIG_KEYS[key].default;
  if (kind === 'boolean') return text === 'true' ? true : text === 'false' ? false : text;
  if (kind === 'number' && key !== 'memory') return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
  return text;
}

export const envName = (key: ConfigKey): string => `VIRTUALGHOST_${key.toUpperCase().replace(/\./g, '__')}`;

/**
 * `VIRTUALGHOST_*` variables that name no setting: a typo such as VIRTUALGHOST_VCPU would otherwise be
 * ignored without a word. One message per variable, with the closest real name.
 */
export function unknownEnvVars(env: NodeJS.ProcessEnv): string[] {
  const known = [...(Object.keys(CONFIG_KEYS) as ConfigKey[]).map(envName), ...OTHER_ENV_VARS];
  return Object.keys(env)
    .filter((name) => name.startsWith('VIRTUALGHOST_') && !known.includes(name))
    .map((name) => {
      const hint = closest(name, known);
      return `ignoring ${name}: no such setting${hint ? ` — did you mean ${hint}?` : ''} (README: Environment variables)`;
    });
}

export function loadConfig(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
  flags: Partial<Record<ConfigKey, unknown>> = {},
): LoadedConfig {
  const values = defaults() as Record<ConfigKey, unknown>;
  const origins = Object.fromEntries(Object.keys(values).map((k) => [k, 'default'])) as Record<ConfigKey, Origin>;
  for (const [k, val] of Object.entries(readConfigFile(file)) as Array<[ConfigKey, unknown]>) {
    values[k] = val;
    origins[k] = 'file';
  }
  for (const key of Object.keys(CONFIG_KEYS) as ConfigKey[]) {
    const e = env[envName(key)];
    if (e === undefined || e === '') continue;
    values[key] = validateValue(key, coerce(key, e), `environment variable ${envName(key)}`);
    origins[key] = 'env';
  }
  for (const [k, val] of Object.entries(flags) as Array<[ConfigKey, unknown]>) {
    if (val === undefined) continue;
    values[k] = validateValue(k, typeof val === 'string' ? coerce(k, val) : val, `flag ${flagName(k)}`);
    origins[k] = 'flag';
  }
  return { values: values as ConfigValues, origins, file };
}

/**
 * Sets one key in the file (validated first), written atomically; the rest of the file, comments
 * included, stays as it was.
 */
export function setConfigValue(file: string, key: string, text: string): unknown {
  if (!isConfigKey(key)) throw unknownKey(key, 'config set');
  const value = validateValue(key, coerce(key, text), `config set ${key}`);
  readConfigFile(file); // refuse to build on a file the loader rejects: the error says where it is wrong
  const current = readConfigText(file) ?? '';
  const stored = key === 'memory' ? `${String(value)}M` : value;
  const expected = parseToml(current) as Table;
  let obj = expected;
  const parts = key.split('.');
  for (const [i, p] of parts.slice(0, -1).entries()) {
    // TOML cannot hold `image = "…"` and `image.packages` both: say so rather than drop one of them.
    if (obj[p] !== undefined && !isTable(obj[p]))
      throw new ConfigInvalidError(
        `${file}: \`${parts.slice(0, i + 1).join('.')}\` is set there, and TOML cannot also hold \`${key}\`; \`virtualghost config unset ${parts.slice(0, i + 1).join('.')}\` first`,
      );
    obj = (isTable(obj[p]) ? obj[p] : (obj[p] = {})) as Table;
  }
  const leaf = parts[parts.length - 1] ?? key;
  if (isTable(obj[leaf]))
    throw new ConfigInvalidError(
      `${file}: \`[${key}]\` keys (${Object.keys(obj[leaf])
        .map((k) => `${key}.${k}`)
        .join(', ')}) are set there, and TOML cannot also hold \`${key}\`; unset them first`,
    );
  obj[leaf] = stored;
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeChecked(file, setKeyText(current, key, stored), expected);
  return value;
}
