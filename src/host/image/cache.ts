/**
 * The content-addressed image cache: images/<id>/ holds vmlinux, initrd.img, rootfs.ext4 and
 * manifest.json. A directory appears there only complete (built in images/.tmp-<id>-<pid>, then renamed),
 * and its files are read-only: VMs write to their own layers.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Recipe } from './recipe.js';

export interface ImageManifest {
  id: string;
  recipe: Recipe;
  kernelRelease: string;
  createdAt: string;
  buildSeconds: number;
  bytes: { vmlinux: number; initrd: number; rootfsApparent: number };
}

export interface CachedImage {
  id: string;
  dir: string;
  kernel: string;
  initrd: string;
  rootfs: string;
  manifest: ImageManifest;
}

export const TMP_PREFIX = '.tmp-';

export function imageFiles(dir: string) {
  return { kernel: join(dir, 'vmlinux'), initrd: join(dir, 'initrd.img'), rootfs: join(dir, 'rootfs.ext4'), manifest: join(dir, 'manifest.json') };
}

export function readImage(imagesDir: string, id: string): CachedImage | undefined {
  const dir = join(imagesDir, id);
  const files = imageFiles(dir);
  try {
    const manifest = JSON.parse(readFileSync(files.manifest, 'utf8')) as ImageManifest;
    if (manifest.id !== id || ![files.kernel, files.initrd, files.rootfs].every((f) => existsSync(f))) return undefined;
    return { id, dir, ...files, manifest };
  } catch {
    return undefined;
  }
}

export function listImages(imagesDir: string): CachedImage[] {
  if (!existsSync(imagesDir)) return [];
  return readdirSync(imagesDir)
    .filter((n) => !n.startsWith('.'))
    .map((n) => readImage(imagesDir, n))
    .filter((i): i is CachedImage => i !== undefined)
    .sort((a, b) => b.manifest.createdAt.localeCompare(a.manifest.createdAt));
}

/** Disk blocks actually used (the rootfs is sparse). */
export function diskUsage(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir)) total += statSync(join(dir, name)).blocks * 512;
  return total;
}

/** Leftovers of builds whose process is gone (interrupted with SIGKILL, power loss). */
export function removeStaleBuilds(imagesDir: string): string[] {
  if (!existsSync(imagesDir)) return [];
  const removed: string[] = [];
  for (const name of readdirSync(imagesDir)) {
    if (!name.startsWith(TMP_PREFIX)) continue;
    const pid = Number(name.split('-').pop());
    if (Number.isInteger(pid) && pid > 0 && pidAlive(pid)) continue;
    rmSync(join(imagesDir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
