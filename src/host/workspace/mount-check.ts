/**
 * The mounts of a command, checked against the host before any VM dir exists or a VM boots: each host
 * dir must exist and be a directory. The path handed to the VMM is the real path, so a symlink the user
 * named is resolved once, here, and nothing later depends on it.
 */
import { realpathSync, statSync } from 'node:fs';
import { ConfigInvalidError } from '../config/errors.js';
import { originSource, type LoadedConfig } from '../config/load.js';
import { MountSpecProblem, parseMounts, type MountSpec } from './mount-spec.js';

export function resolveMounts(config: LoadedConfig): MountSpec[] {
  const entries = config.values.mounts;
  if (entries.length === 0) return [];
  const source = originSource(config, 'mounts');
  const from = source ? ` (from ${source})` : '';
  let specs: MountSpec[];
  try {
    specs = parseMounts(entries, process.cwd());
  } catch (err) {
    if (err instanceof MountSpecProblem) throw new ConfigInvalidError(`${err.message}${from}`);
    throw err;
  }
  return specs.map((spec) => {
    const named = `mount ${spec.host}:${spec.guest}${spec.readonly ? ':ro' : ''}${from}`;
    let isDir: boolean;
    try {
      isDir = statSync(spec.host).isDirectory();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new ConfigInvalidError(
        code === 'ENOENT' || code === 'ENOTDIR'
          ? `${named}: host dir ${spec.host} does not exist; create it or fix the path`
          : `${named}: cannot read host dir ${spec.host}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    if (!isDir)
      throw new ConfigInvalidError(
        `${named}: ${spec.host} is not a directory; a mount shares a directory (put the file in one and mount that)`,
      );
    return { ...spec, host: realpathSync(spec.host) };
  });
}
