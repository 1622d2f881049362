/**
 * Registry auth against real docker-registry instances: `auth: token` with a token service of our own
 * (anonymous bearer tokens as Docker Hub issues them, and credentialed ones), `auth: htpasswd` (Basic),
 * credentials from docker's config.json, and plain http only where it is allowed. No VM is booted.
 */
import { execFileSync } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.js';
import { OciLayoutWriter, tarLayer, type Desc } from '../../../src/host/bench/oci-layout-writer.js';
import { push, startRegistry, type Registry } from '../../../src/host/bench/local-registry.js';
import { startTokenServer, TOKEN_USER, type TokenServer } from '../../helpers/token-server.js';

let work: string;
let layout: OciLayoutWriter;
let image: Desc;
const creds = `${TOKEN_USER.username}:${TOKEN_USER.password}`;

/** A DOCKER_CONFIG dir holding `config`. */
function dockerConfig(name: string, config: unknown): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

function pull(ref: string, env: NodeJS.ProcessEnv = {}): ReturnType<typeof runCli> {
  return runCli(['image', 'pull', '--json', ref], {
    env: { XDG_CACHE_HOME: join(work, 'cache'), DOCKER_CONFIG: join(work, 'none'), ...env },
    timeoutMs: 60_000,
  });
}

const auth = (user: string, password: string): string => Buffer.from(`${user}:${password}`).toString('base64');

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'vg-auth-'));
  layout = new OciLayoutWriter(join(work, 'layout'));
  image = layout.image('amd64', [tarLayer({ 'etc/motd': 'auth test\n' })]);
  layout.tag('1', image);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('token auth (auth: token, a realm we serve)', () => {
  let tokens: TokenServer;
  let registry: Registry;
  beforeAll(async () => {
    tokens = await startTokenServer(work);
    registry = await startRegistry({
      token: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootcertbundle: tokens.certFile },
    });
    await push(layout.dir, '1', `${registry.host}/public/app:1`, { creds });
    await push(layout.dir, '1', `${registry.host}/private/app:1`, { creds });
  }, 120_000);
  afterAll(async () => {
    await registry?.stop();
    await tokens?.stop();
  });

  it('an anonymous bearer token is fetched from the realm the 401 names, for the pull scope', async () => {
    tokens.requests.length = 0;
    const r = await pull(`${registry.host}/public/app:1`);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout.toString()) as { manifestDigest: string }).manifestDigest).toBe(image.digest);
    expect(tokens.requests).toEqual([{ scope: ['repository:public/app:pull'], service: tokens.service }]);
  });

  it('without credentials a private repository is exit 77 naming it and where credentials go', async () => {
    const r = await pull(`${registry.host}/private/app:1`);
    expect(r.code).toBe(77);
    expect(r.stderr).toContain(`registry ${registry.host} needs credentials for ${registry.host}/private/app:1 (401)`);
    expect(r.stderr).toContain(`docker login ${registry.host}`);
  });

  it("with credentials from docker's config.json the token request carries them, and the pull works", async () => {
    tokens.requests.length = 0;
    const dir = dockerConfig('good', {
      auths: { [registry.host]: { auth: auth(TOKEN_USER.username, TOKEN_USER.password) } },
    });
    const r = await pull(`${registry.host}/private/app:1`, { DOCKER_CONFIG: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(tokens.requests.map((q) => q.authorization)).toEqual([
      `Basic ${auth(TOKEN_USER.username, TOKEN_USER.password)}`,
    ]);
  });

  it('wrong credentials are exit 77 naming the file they came from', async () => {
    const dir = dockerConfig('wrong', { auths: { [`https://${registry.host}`]: { auth: auth('alice', 'nope') } } });
    const r = await pull(`${registry.host}/private/app:1`, { DOCKER_CONFIG: dir });
    expect(r.code).toBe(77);
    expect(r.stderr).toContain(`registry ${registry.host} refused the credentials in ${join(dir, 'config.json')}`);
  });

  it('credentials only a credential helper has are exit 77 naming the helper we do not run', async () => {
    const dir = dockerConfig('helper', { credHelpers: { [registry.host]: 'pass' } });
    const r = await pull(`${registry.host}/private/app:1`, { DOCKER_CONFIG: dir });
    expect(r.code).toBe(77);
    expect(r.stderr).toContain('credential helper docker-credential-pass, which VirtualGhost does not run');
  });
});

describe('basic auth (auth: htpasswd)', () => {
  let registry: Registry;
  beforeAll(async () => {
    const file = join(work, 'htpasswd');
    writeFileSync(file, execFileSync('htpasswd', ['-Bbn', TOKEN_USER.username, TOKEN_USER.password]));
    registry = await startRegistry({ htpasswd: file });
    await push(layout.dir, '1', `${registry.host}/app:1`, { creds });
  }, 120_000);
  afterAll(async () => {
    await registry?.stop();
  });

  it('needs the credentials from config.json: without them exit 77, with them the image', async () => {
    const without = await pull(`${registry.host}/app:1`);
    expect(without.code).toBe(77);
    expect(without.stderr).toContain(`registry ${registry.host} needs credentials for ${registry.host}/app:1 (401)`);
    const dir = dockerConfig('basic', {
      auths: { [registry.host]: { username: TOKEN_USER.username, password: TOKEN_USER.password } },
    });
    const r = await pull(`${registry.host}/app:1`, { DOCKER_CONFIG: dir });
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout.toString()) as { manifestDigest: string }).manifestDigest).toBe(image.digest);
  });
});

describe('plain http only for loopback registries and image.insecure_registries', () => {
  let registry: Registry;
  beforeAll(async () => {
    registry = await startRegistry();
    await push(layout.dir, '1', `${registry.host}/app:1`);
  }, 120_000);
  afterAll(async () => {
    await registry?.stop();
  });

  it('a registry by a non-loopback name is spoken to over https unless listed in image.insecure_registries', async () => {
    // This machine's own name reaches the registry on 127.0.0.1, but is not a loopback name.
    const name = hostname();
    expect((await lookup(name, { family: 4 })).address, `${name} must resolve to 127.0.0.1 for this test`).toBe(
      '127.0.0.1',
    );
    const host = `${name}:${registry.port}`;
    const https = await pull(`${host}/app:1`);
    expect(https.code).toBe(69);
    expect(https.stderr).toContain(`cannot reach registry ${host} (https://${host}) for ${host}/app:1`);
    const insecure = await pull(`${host}/app:1`, { VIRTUALGHOST_IMAGE__INSECURE_REGISTRIES: host });
    expect(insecure.code, insecure.stderr).toBe(0);
    const bad = await pull(`${host}/app:1`, { VIRTUALGHOST_IMAGE__INSECURE_REGISTRIES: 'http://x' });
    expect(bad.code).toBe(65);
    expect(bad.stderr).toContain('VIRTUALGHOST_IMAGE__INSECURE_REGISTRIES');
  });
});
