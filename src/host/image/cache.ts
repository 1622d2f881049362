/**
 * The content-addressed image cache: images/<id>/ holds vmlinux, initrd.img, rootfs.ext4 and
 * manifest.json. A directory appears there only complete (built in images/.tmp-<id>-…, then renamed),
 * and its files are read-only: VMs write to their own layers.
 *
 * An image is used only if it matches its manifest: every file there with the size recorded at build
 * time (a stat each, on every start), and vmlinux and initrd.img with the recorded sha256 (verify.ts:
 * hashed only when a file changed since it was last verified). The rootfs is never hashed: 2 GiB per start
 * would cost more than the boot. A damaged image is reported with the file and what is wrong with it.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../../shared/errors.js';
import { removeAbandoned, tempDirName } from '../store/temp-dir.js';
import type { ImageOrigin } from './oci/origin.js';
import type { Recipe } from './recipe.js';
import { firstHashMismatch } from './verify.js';

export interface ImageManifest {
  id: string;
  recipe: Recipe;
  kernelRelease: string;
  createdAt: string;
  buildSeconds: number;
  bytes: { vmlinux: number; initrd: number; rootfsApparent: number };
  /** Where an image converted from OCI came from (absent: built from `recipe`). */
  source?: ImageOrigin;
  /** Hex sha256 of the boot files (images built before this was recorded have none: sizes only). */
  sha256?: { vmlinux: string; initrd: string };
}

export interface CachedImage {
  id: string;
  dir: string;
  kernel: string;
  initrd: string;
  rootfs: string;
  manifest: ImageManifest;
}

/** What is in the cache under an id: a usable image, nothing, or a damaged one (`file` is the culprit). */
export type ImageCheck =
  | { readonly state: 'ok'; readonly id: string; readonly image: CachedImage }
  | { readonly state: 'absent'; readonly id: string; readonly dir: string }
  | {
      readonly state: 'damaged';
      readonly id: string;
      readonly dir: string;
      readonly file: string;
      readonly problem: string;
    };

export const TMP_PREFIX = '.tmp-';
/** A damaged image dir is renamed to this (+ id, creator, random) before it is deleted. */
export const DAMAGED_PREFIX = '.damaged-';

export function imageFiles(dir: string) {
  return {
    kernel: join(dir, 'vmlinux'),
    initrd: join(dir, 'initrd.img'),
    rootfs: join(dir, 'rootfs.ext4'),
    manifest: join(dir, 'manifest.json'),
  };
}

export function describeDamage(check: Extract<ImageCheck, { state: 'damaged' }>): string {
  return `${check.file} ${check.problem}`;
}

export function readImage(imagesDir: string, id: string): ImageCheck {
  const dir = join(imagesDir, id);
  const damaged = (file: string, problem: string): ImageCheck => ({ state: 'damaged', id, dir, file, problem });
  try {
    if (!lstatSync(dir).isDirectory()) return damaged(dir, 'is not a directory');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'absent', id, dir };
    return damaged(dir, `cannot be read (${errorMessage(err)})`);
  }
  const files = imageFiles(dir);
  let text: string;
  try {
    text = readFileSync(files.manifest, 'utf8');
  } catch (err) {
    return damaged(
      files.manifest,
      (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'is missing' : `cannot be read (${errorMessage(err)})`,
    );
  }
  let manifest: ImageManifest;
  try {
    manifest = JSON.parse(text) as ImageManifest;
  } catch {
    return damaged(files.manifest, 'is not valid JSON');
  }
  if (typeof manifest !== 'object' || manifest === null || manifest.id !== id)
    return damaged(files.manifest, `does not describe image ${id}`);
  const bytes = manifest.bytes as Partial<ImageManifest['bytes']> | undefined;
  const expected: Array<[string, unknown]> = [
    [files.kernel, bytes?.vmlinux],
    [files.initrd, bytes?.initrd],
    [files.rootfs, bytes?.rootfsApparent],
  ];
  for (const [file, want] of expected) {
    if (typeof want !== 'number') return damaged(files.manifest, 'records no size for every file');
    let size: number;
    try {
      const st = statSync(file);
      if (!st.isFile()) return damaged(file, 'is not a regular file');
      size = st.size;
    } catch (err) {
      return damaged(
        file,
        (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'is missing' : `cannot be read (${errorMessage(err)})`,
      );
    }
    if (size !== want) return damaged(file, `is ${size} bytes; manifest.json records ${want}`);
  }
  if (manifest.sha256) {
    const bad = firstHashMismatch(dir, {
      [files.kernel]: manifest.sha256.vmlinux,
      [files.initrd]: manifest.sha256.initrd,
    });
    if (bad) return damaged(bad, 'does not match the sha256 recorded in manifest.json');
  }
  return { state: 'ok', id, image: { id, dir, ...files, manifest } };
}

/** Every image dir in the cache, usable or damaged (temp and damaged-being-deleted dirs are skipped). */
export function scanImages(imagesDir: string): ImageCheck[] {
  if (!existsSync(imagesDir)) return [];
  return readdirSync(imagesDir)
    .filter((n) => !n.startsWith('.'))
    .map((n) => readImage(imagesDir, n));
}

export function listImages(imagesDir: string): CachedImage[] {
  return scanImages(imagesDir)
    .flatMap((c) => (c.state === 'ok' ? [c.image] : []))
    .sort((a, b) => b.manifest.createdAt.localeCompare(a.manifest.createdAt));
}

/**
 * Takes a damaged (or to-be-replaced) image dir out of the way: renamed aside first, so that no reader
 * sees it half deleted and a new build can be renamed into its place, then deleted. Someone else having
 * moved it already is fine.
 */
export function discardImageDir(imagesDir: string, id: string): void {
  const aside = join(imagesDir, tempDirName(DAMAGED_PREFIX, id));
  try {
    renameSync(join(imagesDir, id), aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  rmSync(aside, { recursive: true, force: true });
}

/** Disk blocks actually used (the rootfs is sparse). */
export function diskUsage(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir)) total += statSync(join(dir, name)).blocks * 512;
  return total;
}

/** Leftovers of builds (and of deletions) whose process is gone (interrupted with SIGKILL, power loss). */
export function removeStaleBuilds(imagesDir: string, onError?: (path: string, err: unknown) => void): string[] {
  const opts = onError ? { onError } : {};
  return [...removeAbandoned(imagesDir, TMP_PREFIX, opts), ...removeAbandoned(imagesDir, DAMAGED_PREFIX, opts)];
}
