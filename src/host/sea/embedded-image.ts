/**
 * The guest image the executable carries, put where the image cache finds it (images/<id>/, the same
 * files and manifest a build leaves), so warm snapshots, `image ls` and `clean` treat it like a built
 * one. Extracted on first use into a private temp dir beside it and renamed into place (publishImage),
 * like a build; a damaged copy is replaced from the executable again.
 */
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BuildProgress } from '../image/build-progress.js';
import {
  describeDamage,
  discardImageDir,
  imageFiles,
  readImage,
  removeStaleBuilds,
  TMP_PREFIX,
  type CachedImage,
} from '../image/cache.js';
import { publishImage } from '../image/publish.js';
import { ImageDamagedError } from '../image/errors.js';
import { stampVerified } from '../image/verify.js';
import { ensurePrivateDir } from '../store/private-dir.js';
import { tempDirName } from '../store/temp-dir.js';
import { seaManifest } from './embedded.js';
import { extractImageArchive, readArchiveFooter } from './image-archive.js';

export interface EmbeddedImageOptions {
  imagesDir: string;
  signal?: AbortSignal;
  onProgress?: (p: BuildProgress) => void;
  onNotice?: (line: string) => void;
  /** The executable to read (tests point it at a copy). */
  file?: string;
}

/** The executable's image (extracting it first if needed), or null when it carries none. */
export async function ensureEmbeddedImage(opts: EmbeddedImageOptions): Promise<CachedImage | null> {
  const info = seaManifest()?.image;
  if (!info) return null;
  const there = readImage(opts.imagesDir, info.id);
  if (there.state === 'ok') return there.image;
  if (there.state === 'damaged') {
    opts.onNotice?.(`image ${info.id} is damaged (${describeDamage(there)}): extracting it from the executable again`);
    discardImageDir(opts.imagesDir, info.id);
  }
  const file = opts.file ?? process.execPath;
  const footer = readArchiveFooter(file);
  if (
    !footer ||
    footer.index.id !== info.id ||
    footer.sha256 !== info.archiveSha256 ||
    footer.bytes !== info.archiveBytes
  )
    throw new ImageDamagedError(
      `${file} should end in guest image ${info.id} but does not: the executable is damaged or was cut short; download or build it again`,
    );
  const progress = (fraction: number, detail?: string, bytes?: number): void =>
    opts.onProgress?.({
      step: 1,
      steps: 1,
      title: 'from the executable',
      action: 'extract',
      fraction,
      ...(detail !== undefined ? { detail } : {}),
      ...(bytes !== undefined ? { bytes } : {}),
    });
  mkdirSync(opts.imagesDir, { recursive: true });
  removeStaleBuilds(opts.imagesDir);
  const tmp = join(opts.imagesDir, tempDirName(TMP_PREFIX, info.id));
  ensurePrivateDir(tmp);
  const cleanup = (): void => rmSync(tmp, { recursive: true, force: true });
  process.once('exit', cleanup);
  try {
    progress(0, 'starting');
    let shown = -1;
    await extractImageArchive(file, footer, tmp, {
      ...(opts.signal ? { signal: opts.signal } : {}),
      onBytes: (done, total) => {
        const pct = Math.floor((done / total) * 100);
        if (pct === shown) return;
        shown = pct;
        progress(done / total);
      },
    });
    const out = imageFiles(tmp);
    for (const f of [out.kernel, out.initrd, out.rootfs, out.manifest]) chmodSync(f, 0o444);
    // The same modes a build leaves (build.ts): images are shared read-only by every VM of this user.
    stampVerified(tmp, [out.kernel, out.initrd]);
    chmodSync(tmp, 0o755);
    const image = publishImage(tmp, opts.imagesDir, info.id);
    progress(1, 'done', footer.bytes);
    return image;
  } catch (err) {
    cleanup();
    throw err;
  } finally {
    process.removeListener('exit', cleanup);
  }
}
