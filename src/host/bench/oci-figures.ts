/**
 * OCI image figures: converting a ~30 MB and a ~150 MB image (layouts made here: a static busybox and
 * incompressible files, gzip layers) into a scratch cache, and the restore-to-prompt of the small one's
 * warm snapshot against the default image's. Registry pulls are the registry client's to add.
 */
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { loadConfig } from '../config/load.js';
import type { CachedImage } from '../image/cache.js';
import { ensureOciImage } from '../image/oci/convert.js';
import { OCI_LAYER } from '../image/oci/media-types.js';
import { writeOciLayout } from '../image/oci/write-layout.js';
import type { GhostPaths } from '../store/paths.js';
import { summarize, type Summary } from './stats.js';
import { warmRun, type WarmRun } from './warm-figures.js';
import { VmSession } from '../session.js';

/** A busybox image with `fillMiB` of random files (so gzip cannot shrink it); the prompt is `root@ghost`. */
function benchLayout(dir: string, fillMiB: number, busybox: string): void {
  const tree = join(dir, 'tree');
  mkdirSync(join(tree, 'bin'), { recursive: true });
  mkdirSync(join(tree, 'data'), { recursive: true });
  copyFileSync(busybox, join(tree, 'bin', 'busybox'));
  for (const a of ['sh', 'echo', 'true']) symlinkSync('busybox', join(tree, 'bin', a));
  for (let i = 0; i < fillMiB; i++) writeFileSync(join(tree, 'data', `f${i}`), randomBytes(1 << 20));
  const tar = execFileSync('tar', ['-C', tree, '-cf', '-', '.'], { maxBuffer: 1 << 30 });
  rmSync(tree, { recursive: true, force: true });
  writeOciLayout(dir, [{ data: gzipSync(tar, { level: 1 }), mediaType: `${OCI_LAYER}+gzip` }], {
    Env: ['PATH=/bin', 'PS1=root@ghost:\\w# '],
  });
}

export interface OciRow {
  figure: string;
  unit: string;
  value: Summary;
  baseline?: { name: string; value: Summary };
}

export async function ociRows(
  rows: OciRow[],
  paths: GhostPaths,
  base: CachedImage,
  runs: number,
  warmDefault: readonly WarmRun[],
  log: (m: string) => void,
): Promise<void> {
  const busybox = '/bin/busybox';
  const tmp = mkdtempSync(join(tmpdir(), 'vg-bench-oci-'));
  try {
    const small = join(tmp, 'small');
    for (const [name, mib] of [
      ['small', 28],
      ['large', 148],
    ] as const) {
      const layout = join(tmp, name);
      benchLayout(layout, mib, busybox);
      const times: number[] = [];
      for (let i = 0; i < Math.min(runs, 3); i++) {
        const scratch = join(tmp, `cache-${name}-${i}`); // a fresh cache each time: a real conversion
        const t0 = Date.now();
        await ensureOciImage({ imagesDir: scratch, base, source: { kind: 'oci', path: layout } });
        times.push((Date.now() - t0) / 1000);
        rmSync(scratch, { recursive: true, force: true });
      }
      log(`  convert ${name} (~${mib + 2} MB): ${times.map((t) => t.toFixed(1)).join(', ')} s`);
      rows.push({ figure: `convert OCI layout → image (~${mib + 2} MB, gzip)`, unit: 's', value: summarize(times) });
    }
    // Restore to prompt: the small image in the real cache (converted once, its own warm snapshot).
    const oci = loadConfig(paths.configFile, process.env, { accel: 'tcg', image: `oci:${small}` });
    const warmUp = await VmSession.start({ config: oci, paths, signal: new AbortController().signal });
    await warmUp.close();
    const warm: WarmRun[] = [];
    for (let i = 0; i < runs; i++) warm.push(await warmRun(oci, paths));
    const s = (xs: readonly WarmRun[]) => summarize(xs.map((w) => w.startToPrompt / 1000));
    rows.push({
      figure: 'session start → shell prompt (warm, OCI busybox)',
      unit: 's',
      value: s(warm),
      ...(warmDefault.length ? { baseline: { name: 'default image', value: s(warmDefault) } } : {}),
    });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
