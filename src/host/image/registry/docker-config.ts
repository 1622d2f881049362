/**
 * Credentials from docker's own config file ($DOCKER_CONFIG/config.json, else ~/.docker/config.json):
 * `auths.<registry>.auth` (base64 `user:password`), or `username`/`password`, or `registrytoken` (a bearer
 * token). Credential helpers (`credsStore`, `credHelpers`) run programs of their own; we do not, and say
 * so when a registry asks for credentials that only a helper has.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigInvalidError } from '../../config/errors.js';
import { DOCKER_HUB } from './reference.js';

export interface RegistryCredentials {
  /** `user:password` for Basic auth and for token requests. */
  basic?: { username: string; password: string };
  /** A bearer token to send as it is. */
  bearer?: string;
  /** The credential helper docker would ask instead (unsupported): named in the error. */
  helper?: string;
  /** The file they came from, for messages. */
  file: string;
}

export function dockerConfigFile(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env['DOCKER_CONFIG'] || join(env['HOME'] ?? homedir(), '.docker');
  return join(dir, 'config.json');
}

/** Keys docker writes for a registry: `host`, `https://host`, `https://host/v1/`; Hub has its own. */
function keyMatches(key: string, registry: string): boolean {
  const bare = key.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  if (registry === DOCKER_HUB) return ['docker.io', 'index.docker.io', 'registry-1.docker.io'].includes(bare);
  return bare === registry;
}

export function registryCredentials(registry: string, env: NodeJS.ProcessEnv = process.env): RegistryCredentials {
  const file = dockerConfigFile(env);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { file };
    throw new ConfigInvalidError(`cannot read ${file}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ConfigInvalidError(`${file} is not valid JSON (${(err as Error).message}); fix or remove it`);
  }
  if (typeof doc !== 'object' || doc === null) throw new ConfigInvalidError(`${file}: expected a JSON object`);
  const cfg = doc as { auths?: unknown; credHelpers?: unknown; credsStore?: unknown };
  const out: RegistryCredentials = { file };
  const helpers = typeof cfg.credHelpers === 'object' && cfg.credHelpers !== null ? cfg.credHelpers : {};
  for (const [k, v] of Object.entries(helpers)) if (keyMatches(k, registry) && typeof v === 'string') out.helper = v;
  if (out.helper === undefined && typeof cfg.credsStore === 'string' && cfg.credsStore !== '')
    out.helper = cfg.credsStore;
  const auths = typeof cfg.auths === 'object' && cfg.auths !== null ? cfg.auths : {};
  for (const [key, entry] of Object.entries(auths)) {
    if (!keyMatches(key, registry) || typeof entry !== 'object' || entry === null) continue;
    const e = entry as { auth?: unknown; username?: unknown; password?: unknown; registrytoken?: unknown };
    if (typeof e.registrytoken === 'string' && e.registrytoken !== '') out.bearer = e.registrytoken;
    if (typeof e.auth === 'string' && e.auth !== '') {
      const plain = Buffer.from(e.auth, 'base64').toString('utf8');
      const colon = plain.indexOf(':');
      if (colon <= 0)
        throw new ConfigInvalidError(
          `${file}: auths.${JSON.stringify(key)}.auth is not base64 of "user:password"; run \`docker login\` again or fix it`,
        );
      out.basic = { username: plain.slice(0, colon), password: plain.slice(colon + 1) };
    } else if (typeof e.username === 'string' && typeof e.password === 'string') {
      out.basic = { username: e.username, password: e.password };
    }
  }
  return out;
}

export function hasCredentials(c: RegistryCredentials): boolean {
  return c.basic !== undefined || c.bearer !== undefined;
}
