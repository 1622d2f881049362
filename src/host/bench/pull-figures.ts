/**
 * Registry pull figures: `pullImage` of a ~30 MB and a ~150 MB image (incompressible layers generated
 * here, pushed with skopeo into a local docker-registry), each into an empty cache, next to a plain
 * HTTP download of the same blobs from the same registry (no verification, no cache, no layout); and
 * `--image REF`'s whole path, pull + convert into a VM image (ensureOciImage), into an empty cache.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CachedImage } from '../image/cache.js';
import { ensureOciImage } from '../image/oci/convert.js';
import { pullImage } from '../image/registry/pull.js';
import { push, startRegistry } from './local-registry.js';
import { OciLayoutWriter, tarLayer, type Desc } from './oci-layout-writer.js';

export interface PullFigure {
  megabytes: number;
  pullSeconds: number[];
  plainSeconds: number[];
  /** Pull + convert (at most 3 runs: a conversion writes an ext4 image). */
  pullConvertSeconds: number[];
}

/** An image of `layers` layers of `layerMB` random megabytes each; returns its blobs' descriptors. */
function buildImage(dir: string, layers: number, layerMB: number): Desc[] {
  const w = new OciLayoutWriter(dir);
  const ls = Array.from({ length: layers }, (_, i) => tarLayer({ [`data/${i}.bin`]: randomBytes(layerMB << 20) }));
  const manifest = w.image('amd64', ls);
  w.tag('bench', manifest);
  return ls.map((l) => w.blob('application/vnd.oci.image.layer.v1.tar+gzip', l.gz));
}

async function plainDownload(host: string, repo: string, blobs: Desc[]): Promise<void> {
  for (const b of blobs) {
    const res = await fetch(`http://${host}/v2/${repo}/blobs/${b.digest}`);
    if (!res.ok || !res.body) throw new Error(`GET blob ${b.digest}: ${res.status}`);
    for await (const _chunk of res.body) void _chunk;
  }
}

export async function pullFigures(runs: number, base: CachedImage, log: (m: string) => void): Promise<PullFigure[]> {
  const work = mkdtempSync(join(tmpdir(), 'vg-bench-pull-'));
  const registry = await startRegistry();
  try {
    const out: PullFigure[] = [];
    for (const [name, layers, layerMB] of [
      ['small', 3, 10],
      ['large', 5, 30],
    ] as const) {
      const blobs = buildImage(join(work, name), layers, layerMB);
      const megabytes = blobs.reduce((n, b) => n + b.size, 0) / 1e6;
      log(`  pushing a ${megabytes.toFixed(0)} MB image (${layers} layers) with skopeo`);
      await push(join(work, name), 'bench', `${registry.host}/${name}:bench`);
      const fig: PullFigure = { megabytes, pullSeconds: [], plainSeconds: [], pullConvertSeconds: [] };
      for (let i = 0; i < runs; i++) {
        const cacheDir = join(work, `cache-${name}-${i}`);
        let t0 = performance.now();
        await pullImage(`${registry.host}/${name}:bench`, { cacheDir, insecureRegistries: [], env: {} });
        fig.pullSeconds.push((performance.now() - t0) / 1000);
        rmSync(cacheDir, { recursive: true, force: true });
        t0 = performance.now();
        await plainDownload(registry.host, name, blobs);
        fig.plainSeconds.push((performance.now() - t0) / 1000);
      }
      for (let i = 0; i < Math.min(runs, 3); i++) {
        const imagesDir = join(work, `convert-${name}-${i}`, 'images');
        const t0 = performance.now();
        await ensureOciImage({ imagesDir, base, source: { kind: 'registry', ref: `${registry.host}/${name}:bench` } });
        fig.pullConvertSeconds.push((performance.now() - t0) / 1000);
        rmSync(join(work, `convert-${name}-${i}`), { recursive: true, force: true });
      }
      out.push(fig);
    }
    return out;
  } finally {
    await registry.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
