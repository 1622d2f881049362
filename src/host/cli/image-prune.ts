/**
 * `virtualghost image prune [--older-than 30d]`: removes cached images nothing uses. Kept are the current
 * recipe's default image (and the base of any OCI image kept), images a VM runs on or a kept VM's disk
 * sits on, and, with --older-than, images used (or made) within that time.
 */
import { currentRecipe } from '../image/build.js';
import { discardImageDir, diskUsage, listImages } from '../image/cache.js';
import { lastUsed } from '../image/last-used.js';
import { recipeId } from '../image/recipe.js';
import { ghostPaths } from '../store/paths.js';
import { listVms } from '../supervisor/registry.js';
import { dirname } from 'node:path';
import { UsageError } from './usage-error.js';

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 7 * 86400 };

/** "30d", "12h", "2w", "90m", "45s" → milliseconds. */
export function parseAge(text: string): number {
  const m = /^(\d+)([smhdw])$/.exec(text);
  if (!m)
    throw new UsageError(
      `--older-than ${JSON.stringify(text)}: expected a number and a unit (s, m, h, d, w), e.g. 30d`,
    );
  return Number(m[1]) * (UNITS[m[2] as string] as number) * 1000;
}

export async function imagePrune(opts: { olderThan?: string; json?: boolean }): Promise<number> {
  const paths = ghostPaths();
  const maxAge = opts.olderThan !== undefined ? parseAge(opts.olderThan) : 0;
  const images = listImages(paths.imagesDir);
  const keep = new Set<string>();
  try {
    keep.add(recipeId(await currentRecipe(dirname(paths.imagesDir))));
  } catch {
    /* no apt lists: the default image cannot be told apart, so no recipe image is pruned */
    for (const i of images) if (!i.manifest.source) keep.add(i.id);
  }
  for (const vm of listVms(paths)) {
    if (vm.record?.imageId) keep.add(vm.record.imageId);
    if (vm.kept?.imageId) keep.add(vm.kept.imageId);
  }
  for (const i of images) if (keep.has(i.id) && i.manifest.source) keep.add(i.manifest.source.base);
  const now = Date.now();
  const removed: Array<{ id: string; bytes: number }> = [];
  for (const i of images) {
    if (keep.has(i.id) || now - lastUsed(i).getTime() < maxAge) continue;
    const bytes = diskUsage(i.dir);
    discardImageDir(paths.imagesDir, i.id);
    removed.push({ id: i.id, bytes });
  }
  if (opts.json) process.stdout.write(`${JSON.stringify({ removed }, null, 2)}\n`);
  else {
    for (const r of removed) process.stdout.write(`removed ${r.id} (${(r.bytes / 1e6).toFixed(0)} MB)\n`);
    if (removed.length === 0) process.stdout.write('nothing to prune\n');
  }
  return 0;
}
