/** What every command needs: paths and the effective config (defaults < file < env < flags). */
import { flagName, loadConfig, type LoadedConfig } from '../config/load.js';
import type { ConfigKey } from '../config/schema.js';
import { ghostPaths, type GhostPaths } from '../store/paths.js';
import { isQuiet } from './output.js';

export interface CliContext {
  paths: GhostPaths;
  config: LoadedConfig;
}

export function cliContext(flags: Partial<Record<ConfigKey, unknown>> = {}): CliContext {
  const paths = ghostPaths();
  return { paths, config: loadConfig(paths.configFile, process.env, flags) };
}

/** Flags that would size or place a VM: said to be ignored when the named VM already runs. */
export function noticeIgnoredVmFlags(
  name: string,
  flags: Partial<Record<ConfigKey, unknown>>,
  extra: readonly string[] = [],
): void {
  const given = [
    ...new Set(
      (Object.entries(flags) as Array<[ConfigKey, unknown]>)
        .filter(([, v]) => v !== undefined)
        .map(([k]) => flagName(k)),
    ),
    ...extra,
  ];
  if (given.length) notice(`${name} is already running: ${given.join(', ')} ignored`);
}

/** Prints one-line notices on stderr (never on stdout, which belongs to the guest command); `--quiet` drops them. */
export function notice(line: string): void {
  if (isQuiet()) return;
  process.stderr.write(`virtualghost: ${line}\n`);
}
