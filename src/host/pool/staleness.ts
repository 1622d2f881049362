/**
 * The pool's own watch for staleness between claims: every few seconds (a stat and, only when the config
 * file changed, a parse) it compares what decides a VM's shape — the settings, and whether the image is
 * still in the cache — with what the pool was started for. A claim checks the full shape anyway; this
 * makes an unused stale pool stop too, instead of holding VMs nobody can take until its idle timeout.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import type { ConfigKey } from '../config/schema.js';
import type { GhostPaths } from '../store/paths.js';

/** The settings a VM's shape comes from (shape.ts, specFor, selectBackend). */
export const SHAPE_KEYS: readonly ConfigKey[] = [
  'vcpus',
  'memory',
  'backend',
  'accel',
  'image',
  'image.packages',
  'net.mode',
  'net.host_access',
  'qemu.bin',
];

const shapeSettings = (config: LoadedConfig): string => JSON.stringify(SHAPE_KEYS.map((k) => config.values[k]));

function fileStamp(file: string): string {
  try {
    const st = statSync(file);
    return `${st.mtimeMs}:${st.size}:${st.ino}`;
  } catch {
    return 'absent';
  }
}

/** A check to call periodically: the reason the pool is stale, or undefined while it is not. */
export function stalenessCheck(
  paths: GhostPaths,
  config: LoadedConfig,
  imageId: string,
  env: NodeJS.ProcessEnv = process.env,
): () => string | undefined {
  const settings = shapeSettings(config);
  let stamp = fileStamp(paths.configFile);
  return () => {
    if (!existsSync(join(paths.imagesDir, imageId))) return `its image ${imageId} left the cache`;
    const now = fileStamp(paths.configFile);
    if (now === stamp) return undefined;
    stamp = now;
    try {
      if (shapeSettings(loadConfig(paths.configFile, env)) !== settings)
        return 'the config changed the VM shape it was made for';
    } catch (err) {
      return `the config no longer loads (${(err as Error).message})`;
    }
    return undefined;
  };
}
