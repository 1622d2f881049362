/** `--image oci:… | docker-archive:… | REF`: the Debian base image first (kernel, initramfs, agent), then the conversion. */
import type { BuildProgress } from '../build.js';
import { ensureImage } from '../build.js';
import type { CachedImage } from '../cache.js';
import { ensureOciImage, type OciSource } from './convert.js';

export async function resolveOciImage(
  opts: {
    paths: { imagesDir: string };
    signal?: AbortSignal;
    onBuildProgress?: (p: BuildProgress) => void;
    onNotice?: (line: string) => void;
  },
  source: OciSource,
): Promise<CachedImage> {
  const base = await ensureImage({
    imagesDir: opts.paths.imagesDir,
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.onBuildProgress ? { onProgress: opts.onBuildProgress } : {}),
    ...(opts.onNotice ? { onNotice: opts.onNotice } : {}),
  });
  return await ensureOciImage({
    imagesDir: opts.paths.imagesDir,
    base,
    source,
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.onNotice ? { onProgress: opts.onNotice } : {}),
  });
}
