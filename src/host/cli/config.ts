/** `virtualghost config path | show [--effective] [--json] | get KEY | set KEY VALUE`. */
import { loadConfig, setConfigValue } from '../config/load.js';
import { ConfigUnknownKeyError } from '../config/errors.js';
import { CONFIG_KEYS, isConfigKey, suggestKey, type ConfigKey } from '../config/schema.js';
import { ghostPaths } from '../store/paths.js';

const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : String(v));

export function configPath(): number {
  process.stdout.write(`${ghostPaths().configFile}\n`);
  return 0;
}

export function configShow(opts: { effective?: boolean; json?: boolean }): number {
  const cfg = loadConfig(ghostPaths().configFile);
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(opts.effective ? Object.fromEntries(Object.entries(cfg.values).map(([k, v]) => [k, { value: v, origin: cfg.origins[k as ConfigKey] }])) : cfg.values, null, 2)}\n`);
    return 0;
  }
  for (const key of Object.keys(CONFIG_KEYS) as ConfigKey[]) {
    const value = key === 'memory' ? `"${cfg.values.memory}M"` : show(cfg.values[key]);
    const origin = opts.effective ? `  # from ${cfg.origins[key]}` : `  # ${CONFIG_KEYS[key].help}`;
    process.stdout.write(`${key} = ${value}${origin}\n`);
  }
  return 0;
}

export function configGet(key: string): number {
  if (!isConfigKey(key)) {
    const hint = suggestKey(key);
    throw new ConfigUnknownKeyError(`unknown key \`${key}\`${hint ? ` — did you mean \`${hint}\`?` : ''}`);
  }
  const cfg = loadConfig(ghostPaths().configFile);
  process.stdout.write(`${String(cfg.values[key])}\n`);
  return 0;
}

export function configSet(key: string, value: string): number {
  const file = ghostPaths().configFile;
  const stored = setConfigValue(file, key, value);
  process.stdout.write(`${key} = ${show(stored)}  (${file})\n`);
  return 0;
}
