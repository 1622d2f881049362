/** `virtualghost config path | show [--effective] [--json] | get KEY [--json] | set KEY VALUE | unset KEY`. */
import { loadConfig, originSource, setConfigValue, type LoadedConfig } from '../config/load.js';
import { ConfigUnknownKeyError } from '../config/errors.js';
import { CONFIG_KEYS, isConfigKey, suggestKey, type ConfigKey } from '../config/schema.js';
import { unsetConfigValue } from '../config/unset.js';
import { ghostPaths } from '../store/paths.js';

// Strings and lists as TOML spells them (a JSON list of strings is one), the rest as they are.
const show = (v: unknown): string => (typeof v === 'string' || Array.isArray(v) ? JSON.stringify(v) : String(v));

/** "default", "file /home/u/.config/virtualghost/config.toml", "env VIRTUALGHOST_VCPUS", "flag --vcpus". */
function describeOrigin(cfg: LoadedConfig, key: ConfigKey): string {
  const source = originSource(cfg, key);
  return source ? `${cfg.origins[key]} ${source}` : cfg.origins[key];
}

/** One key as a script wants it: value, and with --effective where it came from. */
function keyJson(cfg: LoadedConfig, key: ConfigKey): { value: unknown; origin: string; source?: string } {
  const source = originSource(cfg, key);
  return { value: cfg.values[key], origin: cfg.origins[key], ...(source ? { source } : {}) };
}

export function configPath(opts: { json?: boolean } = {}): number {
  const file = ghostPaths().configFile;
  process.stdout.write(opts.json ? `${JSON.stringify({ path: file })}\n` : `${file}\n`);
  return 0;
}

export function configShow(opts: { effective?: boolean; json?: boolean }): number {
  const cfg = loadConfig(ghostPaths().configFile);
  const keys = Object.keys(CONFIG_KEYS) as ConfigKey[];
  if (opts.json) {
    process.stdout.write(
      `${JSON.stringify(opts.effective ? Object.fromEntries(keys.map((k) => [k, keyJson(cfg, k)])) : cfg.values, null, 2)}\n`,
    );
    return 0;
  }
  for (const key of keys) {
    const value = key === 'memory' ? `"${cfg.values.memory}M"` : show(cfg.values[key]);
    const origin = opts.effective ? `  # from ${describeOrigin(cfg, key)}` : `  # ${CONFIG_KEYS[key].help}`;
    process.stdout.write(`${key} = ${value}${origin}\n`);
  }
  return 0;
}

export function configGet(key: string, opts: { json?: boolean } = {}): number {
  if (!isConfigKey(key)) {
    const hint = suggestKey(key);
    throw new ConfigUnknownKeyError(`unknown key \`${key}\`${hint ? ` — did you mean \`${hint}\`?` : ''}`);
  }
  const cfg = loadConfig(ghostPaths().configFile);
  process.stdout.write(
    opts.json ? `${JSON.stringify({ key, ...keyJson(cfg, key) })}\n` : `${String(cfg.values[key])}\n`,
  );
  return 0;
}

export function configSet(key: string, value: string): number {
  const file = ghostPaths().configFile;
  const stored = setConfigValue(file, key, value);
  process.stdout.write(`${key} = ${show(stored)}  (${file})\n`);
  return 0;
}

export function configUnset(key: string): number {
  const file = ghostPaths().configFile;
  const removed = unsetConfigValue(file, key);
  process.stdout.write(removed ? `removed ${key} from ${file}\n` : `${key} was not set in ${file}; nothing to do\n`);
  return 0;
}
