/**
 * A private image cache (a temp XDG_CACHE_HOME) holding the real current image, for tests that damage an
 * image: the image's files are hard links to the shared cache's (no 2 GiB copy, no 50 s build). Damage is
 * done only by replacing a link with a new file (replaceFile), never by writing through it, so the shared
 * image is never changed.
 */
import {
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { CachedImage } from '../../src/host/image/cache.js';

export interface LinkedCache {
  /** The XDG_CACHE_HOME to run with. */
  home: string;
  imagesDir: string;
  id: string;
  /** images/<id> in the private cache. */
  dir: string;
  remove(): void;
}

export const IMAGE_FILES = ['vmlinux', 'initrd.img', 'rootfs.ext4', 'manifest.json'] as const;

export function linkedCache(real: CachedImage): LinkedCache {
  const home = mkdtempSync(join(tmpdir(), 'vg-imgcache-'));
  const imagesDir = join(home, 'virtualghost', 'images');
  const dir = join(imagesDir, real.id);
  mkdirSync(dir, { recursive: true });
  for (const f of IMAGE_FILES) linkSync(join(real.dir, f), join(dir, f));
  // The kernel package the recipe was resolved with: the same recipe id, without asking apt.
  const kernelPackage = join(dirname(dirname(real.dir)), 'kernel-package.json');
  if (existsSync(kernelPackage)) copyFileSync(kernelPackage, join(home, 'virtualghost', 'kernel-package.json'));
  return { home, imagesDir, id: real.id, dir, remove: () => rmSync(home, { recursive: true, force: true }) };
}

/** Replaces a (possibly hard-linked) file with a new one of `apparentSize` bytes (sparse past `content`): the link's other names keep the old content. */
export function replaceFile(path: string, content: string | Buffer, apparentSize?: number): void {
  rmSync(path, { force: true });
  writeFileSync(path, content);
  if (apparentSize !== undefined) truncateSync(path, apparentSize);
}
