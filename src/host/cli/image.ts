/** `virtualghost image build [--force] [--json] | ls [--json] | rm ID...|--all`. */
import { rmSync } from 'node:fs';
import { ensureImage } from '../image/build.js';
import { diskUsage, listImages, readImage } from '../image/cache.js';
import { ImageNotFoundError } from '../image/errors.js';
import { ghostPaths } from '../store/paths.js';
import { buildProgressPrinter } from './progress.js';

export async function imageBuild(opts: { force?: boolean; json?: boolean }): Promise<number> {
  const paths = ghostPaths();
  const img = await ensureImage({ imagesDir: paths.imagesDir, force: opts.force ?? false, onProgress: buildProgressPrinter() });
  if (opts.json) {
    const m = img.manifest;
    process.stdout.write(`${JSON.stringify({ id: img.id, kernel: m.kernelRelease, createdAt: m.createdAt, buildSeconds: m.buildSeconds, dir: img.dir }, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(`${img.id}  ${img.manifest.kernelRelease}  built ${img.manifest.createdAt} in ${img.manifest.buildSeconds}s  ${img.dir}\n`);
  return 0;
}

export function imageList(opts: { json?: boolean }): number {
  const paths = ghostPaths();
  const images = listImages(paths.imagesDir);
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(images.map((i) => ({ id: i.id, kernel: i.manifest.kernelRelease, createdAt: i.manifest.createdAt, diskBytes: diskUsage(i.dir), dir: i.dir })), null, 2)}\n`);
    return 0;
  }
  if (images.length === 0) {
    process.stdout.write('no images yet: `virtualghost image build` (or any `run`) builds one\n');
    return 0;
  }
  process.stdout.write(`${'ID'.padEnd(18)}${'KERNEL'.padEnd(18)}${'CREATED'.padEnd(22)}SIZE\n`);
  for (const i of images) {
    process.stdout.write(`${i.id.padEnd(18)}${i.manifest.kernelRelease.padEnd(18)}${i.manifest.createdAt.slice(0, 19).replace('T', ' ').padEnd(22)}${(diskUsage(i.dir) / 1e6).toFixed(0)} MB\n`);
  }
  return 0;
}

export function imageRemove(ids: string[], opts: { all?: boolean }): number {
  const paths = ghostPaths();
  const targets = opts.all ? listImages(paths.imagesDir).map((i) => i.id) : ids;
  for (const id of targets) {
    const img = readImage(paths.imagesDir, id);
    if (!img) throw new ImageNotFoundError(`no image ${id} in ${paths.imagesDir}; see \`virtualghost image ls\``);
    rmSync(img.dir, { recursive: true, force: true });
    process.stdout.write(`removed ${id}\n`);
  }
  return 0;
}
