/**
 * Where VirtualGhost keeps things, per the XDG base directory spec (tests isolate themselves by
 * setting the XDG variables):
 *   config   $XDG_CONFIG_HOME/virtualghost/config.toml        (~/.config)
 *   cache    $XDG_CACHE_HOME/virtualghost/images/<id>/        (~/.cache)   guest images, rebuildable
 *   state    $XDG_STATE_HOME/virtualghost/                    (~/.local/state)
 *   runtime  $XDG_RUNTIME_DIR/virtualghost/vms/<name>/        per-VM dirs: sockets, keys, overlay, logs
 * Without XDG_RUNTIME_DIR (root shells, CI) runtime falls back to /tmp/virtualghost-<uid>, which we
 * create 0700 and refuse to use if someone else owns it. Unix socket paths must stay under 108 bytes,
 * which is why per-VM dirs live under the (short) runtime dir.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface GhostPaths {
  configFile: string;
  cacheDir: string;
  imagesDir: string;
  stateDir: string;
  runtimeDir: string;
  vmsDir: string;
}

function xdg(env: NodeJS.ProcessEnv, key: string, fallback: string): string {
  const value = env[key];
  // The spec: relative paths are invalid and must be ignored.
  return value !== undefined && value.startsWith('/') ? value : fallback;
}

export function ghostPaths(env: NodeJS.ProcessEnv = process.env): GhostPaths {
  const home = env['HOME'] ?? homedir();
  const config = xdg(env, 'XDG_CONFIG_HOME', join(home, '.config'));
  const cache = join(xdg(env, 'XDG_CACHE_HOME', join(home, '.cache')), 'virtualghost');
  const state = join(xdg(env, 'XDG_STATE_HOME', join(home, '.local', 'state')), 'virtualghost');
  const uid = process.getuid?.() ?? 0;
  const runtimeBase = env['XDG_RUNTIME_DIR'];
  const runtime =
    runtimeBase !== undefined && runtimeBase.startsWith('/')
      ? join(runtimeBase, 'virtualghost')
      : `/tmp/virtualghost-${uid}`;
  return {
    configFile: join(config, 'virtualghost', 'config.toml'),
    cacheDir: cache,
    imagesDir: join(cache, 'images'),
    stateDir: state,
    runtimeDir: runtime,
    vmsDir: join(runtime, 'vms'),
  };
}
