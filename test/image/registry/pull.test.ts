/**
 * `image pull` against a real registry (docker-registry on 127.0.0.1) holding images pushed by skopeo
 * from OCI layouts built here: a single manifest (OCI and Docker v2 schema 2), a multi-platform index,
 * pinned digests, the shared layer cache, a resumed download, and the bad cases (404, unreachable, an
 * index without linux/amd64, a tampered blob), each leaving nothing half-written. No VM is booted.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, runCli } from '../../helpers/cli.js';
import { OciLayoutWriter, tarLayer, type Desc } from '../../../src/host/bench/oci-layout-writer.js';
import { freePort, push, startRegistry, type Registry } from '../../../src/host/bench/local-registry.js';
import { startCuttingProxy, type CuttingProxy } from '../../helpers/cutting-proxy.js';

let registry: Registry;
let work: string;
let cache: string;
const env = (): NodeJS.ProcessEnv => ({ XDG_CACHE_HOME: cache, DOCKER_CONFIG: join(work, 'no-docker-config') });

const base = tarLayer({ 'etc/os-release': 'ID=test\n', 'bin/hello': '#!/bin/sh\necho hello\n' });
const appLayer = tarLayer({ 'app/data.bin': randomBytes(3 * 1024 * 1024), 'app/run': 'run\n' });
const armLayer = tarLayer({ 'app/arm-only': 'arm\n' });
let single: Desc;
let amd64: Desc;
let arm64: Desc;

const registryDir = (): string => join(cache, 'virtualghost', 'registry');
const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const blobDigest = (gz: Buffer): string => sha(gz);

function pull(ref: string, extraEnv: NodeJS.ProcessEnv = {}): ReturnType<typeof runCli> {
  return runCli(['image', 'pull', '--json', ref], { env: { ...env(), ...extraEnv }, timeoutMs: 60_000 });
}

/** What a pull leaves in the cache besides finished blobs and layouts: should be nothing. */
function halfWritten(): string[] {
  const out: string[] = [];
  const partial = join(registryDir(), 'partial');
  if (existsSync(partial)) out.push(...readdirSync(partial).map((n) => `partial/${n}`));
  const layouts = join(registryDir(), 'layouts');
  if (existsSync(layouts)) out.push(...readdirSync(layouts).filter((n) => n.startsWith('.tmp')));
  return out;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'vg-pull-'));
  cache = join(work, 'cache');
  registry = await startRegistry();
  const one = new OciLayoutWriter(join(work, 'single'));
  single = one.image('amd64', [base, appLayer], ['GREETING=hi']);
  one.tag('dev', single);
  await push(one.dir, 'dev', `${registry.host}/app:dev`);
  // The same image as Docker v2 schema 2 (skopeo converts the media types).
  await push(one.dir, 'dev', `${registry.host}/app-docker:v2`, { format: 'v2s2' });
  const multi = new OciLayoutWriter(join(work, 'multi'));
  arm64 = multi.image('arm64', [base, armLayer]);
  amd64 = multi.image('amd64', [base, appLayer], ['ARCH=amd64']);
  multi.tag('multi', multi.index([arm64, amd64]));
  await push(multi.dir, 'multi', `${registry.host}/multi:latest`, { all: true });
  const armOnly = new OciLayoutWriter(join(work, 'arm-only'));
  armOnly.tag('arm', armOnly.index([armOnly.image('arm64', [armLayer])]));
  await push(armOnly.dir, 'arm', `${registry.host}/armonly:1`, { all: true });
}, 120_000);

afterAll(async () => {
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

function readLayout(dir: string): {
  index: { manifests: (Desc & { annotations?: Record<string, string> })[] };
  manifest: { mediaType?: string; config: Desc; layers: Desc[] };
} {
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as ReturnType<typeof readLayout>['index'];
  const top = index.manifests[0] as Desc;
  const manifest = JSON.parse(readFileSync(join(dir, 'blobs', 'sha256', top.digest.slice(7)), 'utf8')) as ReturnType<
    typeof readLayout
  >['manifest'];
  return { index, manifest };
}

describe('image pull from a local registry', () => {
  it('a single-manifest image becomes an OCI layout whose blobs are verified hard links into the layer cache', async () => {
    const r = await pull(`${registry.host}/app:dev`);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.toString()) as { layoutDir: string; manifestDigest: string; reference: string };
    expect(out.reference).toBe(`${registry.host}/app:dev`);
    expect(out.manifestDigest).toBe(single.digest);
    expect(out.layoutDir).toBe(join(registryDir(), 'layouts', single.digest.replace(':', '-')));
    expect(JSON.parse(readFileSync(join(out.layoutDir, 'oci-layout'), 'utf8'))).toEqual({
      imageLayoutVersion: '1.0.0',
    });
    const { index, manifest } = readLayout(out.layoutDir);
    expect(index.manifests).toHaveLength(1);
    expect(index.manifests[0]).toMatchObject({
      digest: single.digest,
      platform: { os: 'linux', architecture: 'amd64' },
      annotations: { 'org.opencontainers.image.ref.name': 'dev' },
    });
    expect(manifest.layers.map((l) => l.digest)).toEqual([blobDigest(base.gz), blobDigest(appLayer.gz)]);
    for (const d of [index.manifests[0] as Desc, manifest.config, ...manifest.layers]) {
      const file = join(out.layoutDir, 'blobs', 'sha256', d.digest.slice(7));
      const st = lstatSync(file);
      expect(st.isFile(), d.digest).toBe(true); // never a symlink
      expect(sha(readFileSync(file))).toBe(d.digest);
      expect(st.size).toBe(d.size);
      if (d !== index.manifests[0])
        expect(st.ino).toBe(statSync(join(registryDir(), 'blobs', 'sha256', d.digest.slice(7))).ino);
    }
    for (const d of ['', 'blobs', 'blobs/sha256', 'partial', 'layouts'])
      expect((statSync(join(registryDir(), d)).mode & 0o777).toString(8), d).toBe('700');
    expect(halfWritten()).toEqual([]);
  });

  it('a Docker v2 schema 2 image keeps its media type, and shares the layer cache with the OCI image', async () => {
    const r = await pull(`${registry.host}/app-docker:v2`);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.toString()) as { layoutDir: string };
    const { index, manifest } = readLayout(out.layoutDir);
    expect(index.manifests[0]?.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    expect(manifest.layers[0]?.mediaType).toBe('application/vnd.docker.image.rootfs.diff.tar.gzip');
    const layer = manifest.layers[1] as Desc;
    expect(layer.digest).toBe(blobDigest(appLayer.gz));
    const ocis = join(
      registryDir(),
      'layouts',
      single.digest.replace(':', '-'),
      'blobs',
      'sha256',
      layer.digest.slice(7),
    );
    const here = join(out.layoutDir, 'blobs', 'sha256', layer.digest.slice(7));
    expect(statSync(here).ino).toBe(statSync(ocis).ino);
    expect(statSync(here).nlink).toBeGreaterThanOrEqual(3); // the cache's file and both layouts
  });

  it('a multi-platform index resolves to its linux/amd64 image; the arm64 layers are not fetched', async () => {
    const r = await pull(`${registry.host}/multi`);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.toString()) as { layoutDir: string; manifestDigest: string };
    expect(out.manifestDigest).toBe(amd64.digest);
    expect(readLayout(out.layoutDir).index.manifests.map((m) => m.digest)).toEqual([amd64.digest]);
    expect(existsSync(join(registryDir(), 'blobs', 'sha256', blobDigest(armLayer.gz).slice(7)))).toBe(false);
  });

  it('a pinned digest pulls exactly that manifest; one the registry lacks is a 404 naming it (exit 66)', async () => {
    const r = await pull(`${registry.host}/multi@${amd64.digest}`);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout.toString()) as { manifestDigest: string }).manifestDigest).toBe(amd64.digest);
    const missing = `sha256:${'0'.repeat(64)}`;
    const bad = await pull(`${registry.host}/multi@${missing}`);
    expect(bad.code).toBe(66);
    expect(bad.stderr).toContain(
      `registry ${registry.host} has no manifest ${missing} for ${registry.host}/multi@${missing}`,
    );
    expect(bad.stderr).toContain('MANIFEST_UNKNOWN');
  });

  it('an unknown tag or repository is exit 66 naming the reference; nothing is left behind', async () => {
    for (const ref of [`${registry.host}/app:nope`, `${registry.host}/nosuch/app:1`]) {
      const r = await pull(ref);
      expect(r.code, r.stderr).toBe(66);
      expect(r.stderr).toMatch(
        new RegExp(`has no manifest \\S+ for ${ref.replace(/[.:/]/g, '\\$&')} \\((MANIFEST|NAME)_UNKNOWN\\)`),
      );
    }
    expect(halfWritten()).toEqual([]);
  });

  it('an index with no linux/amd64 image is exit 66 listing what it has, before any layer is fetched', async () => {
    const r = await pull(`${registry.host}/armonly:1`);
    expect(r.code).toBe(66);
    expect(r.stderr).toContain(`${registry.host}/armonly:1 (index sha256:`);
    expect(r.stderr).toContain('has no linux/amd64 image, only linux/arm64');
    expect(existsSync(join(registryDir(), 'blobs', 'sha256', blobDigest(armLayer.gz).slice(7)))).toBe(false);
    expect(halfWritten()).toEqual([]);
  });

  it('an unreachable registry is exit 69 naming it', async () => {
    const port = await freePort();
    const r = await pull(`127.0.0.1:${port}/app:dev`);
    expect(r.code).toBe(69);
    expect(r.stderr).toContain(
      `cannot reach registry 127.0.0.1:${port} (http://127.0.0.1:${port}) for 127.0.0.1:${port}/app:dev`,
    );
    expect(r.stderr).toContain('ECONNREFUSED');
  });

  it('a bad reference is exit 65 naming it', async () => {
    const r = await pull('Upper/Case:tag');
    expect(r.code).toBe(65);
    expect(r.stderr).toContain('image reference "Upper/Case:tag" is not valid');
  });
});

describe('clean --images', () => {
  it('removes the registry layer cache along with the images', async () => {
    expect(existsSync(registryDir())).toBe(true);
    const r = await runCli(['clean', '--images'], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.toString()).toContain(`removed the registry layer cache ${registryDir()}`);
    expect(existsSync(registryDir())).toBe(false);
  });
});

describe('interrupted and corrupted downloads', () => {
  let proxy: CuttingProxy;
  beforeAll(async () => {
    proxy = await startCuttingProxy(registry.port);
  });
  afterAll(async () => {
    await proxy?.stop();
  });

  it('a blob download cut mid-way is resumed with a Range request and the result verified', async () => {
    rmSync(cache, { recursive: true, force: true });
    const layer = blobDigest(appLayer.gz);
    proxy.cutOnce(`/blobs/${layer}`, 1024 * 1024);
    const r = await pull(`${proxy.host}/app:dev`);
    expect(r.code, r.stderr).toBe(0);
    const gets = proxy.requests.filter((q) => q.url.endsWith(`/blobs/${layer}`));
    expect(gets.map((q) => q.range)).toEqual([undefined, expect.stringMatching(/^bytes=\d+-$/)]);
    const resumedAt = Number(/\d+/.exec(gets[1]?.range ?? '')?.[0]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(1024 * 1024);
    expect(sha(readFileSync(join(registryDir(), 'blobs', 'sha256', layer.slice(7))))).toBe(layer);
    expect(halfWritten()).toEqual([]);
  });

  it('Ctrl-C during a download exits 130 and leaves what arrived for the next pull to resume', async () => {
    rmSync(cache, { recursive: true, force: true });
    const layer = blobDigest(appLayer.gz);
    const partialDir = join(registryDir(), 'partial');
    proxy.stallOnce(`/blobs/${layer}`, 1024 * 1024);
    const child = spawn(process.execPath, [BIN, 'image', 'pull', `${proxy.host}/app:dev`], {
      env: { ...process.env, ...env() },
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
    const claimed = (): number =>
      existsSync(partialDir)
        ? readdirSync(partialDir)
            .filter((n) => n.startsWith(`sha256-${layer.slice(7)}.`))
            .reduce((n, f) => n + statSync(join(partialDir, f)).size, 0)
        : 0;
    for (let i = 0; i < 200 && claimed() < 1024 * 1024; i++) await new Promise((r) => setTimeout(r, 100));
    expect(claimed()).toBe(1024 * 1024);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(readdirSync(partialDir)).toEqual([`sha256-${layer.slice(7)}`]);
    expect(statSync(join(partialDir, `sha256-${layer.slice(7)}`)).size).toBe(1024 * 1024);
    proxy.requests.length = 0;
    const r = await pull(`${proxy.host}/app:dev`);
    expect(r.code, r.stderr).toBe(0);
    expect(proxy.requests.filter((q) => q.url.endsWith(`/blobs/${layer}`)).map((q) => q.range)).toEqual([
      `bytes=${1024 * 1024}-`,
    ]);
    expect(halfWritten()).toEqual([]);
  });

  it('a download interrupted in an earlier pull is resumed from its partial file by the next', async () => {
    rmSync(cache, { recursive: true, force: true });
    const layer = blobDigest(appLayer.gz);
    const partial = join(registryDir(), 'partial', `sha256-${layer.slice(7)}`);
    // What a killed pull leaves: the first 100000 bytes.
    await pull(`${proxy.host}/multi@${amd64.digest}`); // creates the dirs, fetches everything once
    rmSync(join(registryDir(), 'blobs', 'sha256', layer.slice(7)));
    writeFileSync(partial, appLayer.gz.subarray(0, 100_000));
    proxy.requests.length = 0;
    const r = await pull(`${proxy.host}/app:dev`);
    expect(r.code, r.stderr).toBe(0);
    expect(proxy.requests.filter((q) => q.url.endsWith(`/blobs/${layer}`)).map((q) => q.range)).toEqual([
      'bytes=100000-',
    ]);
    expect(existsSync(partial)).toBe(false);
  });

  it("two pulls of one image at once both get it whole; a killed pull's temp layout is swept", async () => {
    rmSync(cache, { recursive: true, force: true });
    await pull(`${registry.host}/app:nope`); // creates the cache dirs (and fails: no such tag)
    // pid 2^22+1 is above the kernel's pid_max: what a pull killed with SIGKILL leaves has a dead pid.
    mkdirSync(join(registryDir(), 'layouts', '.tmp-4194305-1-abcd', 'blobs'), { recursive: true });
    const [a, b] = await Promise.all([pull(`${registry.host}/app:dev`), pull(`${registry.host}/app:dev`)]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(a.stdout.toString()).toBe(b.stdout.toString());
    const layer = blobDigest(appLayer.gz);
    expect(sha(readFileSync(join(registryDir(), 'blobs', 'sha256', layer.slice(7))))).toBe(layer);
    expect(readdirSync(join(registryDir(), 'layouts'))).toEqual([single.digest.replace(':', '-')]);
    expect(halfWritten()).toEqual([]);
  });

  it('a manifest that is not the pinned digest, or not the one the registry announced, is exit 76', async () => {
    const other = readFileSync(join(work, 'single', 'blobs', 'sha256', single.digest.slice(7)));
    proxy.replaceOnce(`/manifests/${amd64.digest}`, other);
    const pinned = await pull(`${proxy.host}/multi@${amd64.digest}`);
    expect(pinned.code).toBe(76);
    expect(pinned.stderr).toContain(`whose digest is ${single.digest}, not ${amd64.digest}`);
    proxy.replaceOnce('/multi/manifests/latest', other);
    const tagged = await pull(`${proxy.host}/multi:latest`);
    expect(tagged.code).toBe(76);
    expect(tagged.stderr).toContain(`whose digest is ${single.digest}, not the sha256:`);
    expect(tagged.stderr).toContain('it announced');
  });

  it('a tampered blob is exit 76 naming its digest; nothing of it is kept', async () => {
    rmSync(cache, { recursive: true, force: true });
    const layer = blobDigest(appLayer.gz);
    const data = join(registry.storage, 'docker/registry/v2/blobs/sha256', layer.slice(7, 9), layer.slice(7), 'data');
    const original = readFileSync(data);
    const tampered = Buffer.from(original);
    tampered.writeUInt8(tampered.readUInt8(tampered.length - 100) ^ 0xff, tampered.length - 100);
    writeFileSync(data, tampered);
    try {
      const r = await pull(`${registry.host}/app:dev`);
      expect(r.code).toBe(76);
      expect(r.stderr).toContain(
        `blob ${layer} of ${registry.host}/app:dev from registry ${registry.host} is corrupted`,
      );
      expect(existsSync(join(registryDir(), 'blobs', 'sha256', layer.slice(7)))).toBe(false);
      expect(readdirSync(join(registryDir(), 'layouts'))).toEqual([]);
      expect(halfWritten()).toEqual([]);
    } finally {
      writeFileSync(data, original);
    }
  });
});
