/**
 * Bearer token auth as Docker Hub and the distribution server's `auth: token` do it: the registry's 401
 * names a realm, service and scope; we GET the realm (with Basic credentials when docker's config has
 * some, anonymously otherwise) and send back the `token` (or `access_token`) it returns.
 */
import { escapeControl } from '../../../shared/escape-control.js';
import { drain, readLimited } from './http-body.js';
import type { RegistryCredentials } from './docker-config.js';
import { RegistryProtocolError } from './errors.js';
import { urlAllowed } from './scheme.js';

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** `Bearer realm="…",service="…",scope="…"` (one challenge; quoted or bare values). */
export function parseChallenge(header: string): Challenge | undefined {
  const m = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const p of (m[2] ?? '').matchAll(/([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g)) {
    const key = (p[1] ?? '').toLowerCase();
    params[key] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '');
  }
  return { scheme: (m[1] ?? '').toLowerCase(), params };
}

/** What a token request needs of the registry client (client.ts), without importing it. */
export interface TokenRequester {
  readonly ref: { registry: string };
  readonly name: string;
  fetch(url: URL, headers: Record<string, string>): Promise<Response>;
  needsCredentials(status: number): Error;
}

export async function bearerToken(
  client: TokenRequester,
  params: Record<string, string>,
  scope: string,
  creds: RegistryCredentials,
  insecure: readonly string[],
): Promise<string> {
  const registry = client.ref.registry;
  let realm: URL;
  try {
    realm = new URL(params['realm'] ?? '');
  } catch {
    throw new RegistryProtocolError(
      `registry ${registry} asked for a bearer token with no usable realm (${escapeControl(params['realm'] ?? 'none')})`,
    );
  }
  if (!urlAllowed(realm, insecure))
    throw new RegistryProtocolError(
      `registry ${registry} sends us to the token realm ${escapeControl(realm.origin)}, which is not https (plain http is only for loopback hosts and image.insecure_registries)`,
    );
  if (params['service'] !== undefined) realm.searchParams.set('service', params['service']);
  realm.searchParams.set('scope', scope);
  const headers: Record<string, string> = {};
  if (creds.basic) {
    const { username, password } = creds.basic;
    headers['authorization'] = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  }
  const res = await client.fetch(realm, headers);
  if (res.status === 401 || res.status === 403) {
    await drain(res);
    throw client.needsCredentials(res.status);
  }
  if (!res.ok) {
    await drain(res);
    throw new RegistryProtocolError(
      `the token service of registry ${registry} (${escapeControl(realm.origin)}) answered ${res.status} for ${client.name}`,
    );
  }
  const body = await readLimited(res, 1024 * 1024);
  let token: unknown;
  try {
    const doc = JSON.parse(body.toString('utf8')) as { token?: unknown; access_token?: unknown };
    token = doc.token ?? doc.access_token;
  } catch {
    token = undefined;
  }
  // A token goes into a header: anything but a printable ASCII run would let the server inject headers.
  if (typeof token !== 'string' || !/^[\x21-\x7e]{1,16384}$/.test(token))
    throw new RegistryProtocolError(
      `the token service of registry ${registry} (${escapeControl(realm.origin)}) sent no usable token for ${client.name}`,
    );
  return token;
}
