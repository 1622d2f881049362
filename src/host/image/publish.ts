/** Puts a finished image dir (a build, or the executable's embedded image) into the cache under its id. */
import { renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describeDamage, discardImageDir, readImage, type CachedImage } from './cache.js';
import { ImageBuildError } from './errors.js';

/**
 * Renames a finished build into images/<id>. A valid image already there (someone else finished the same
 * recipe first) is as good as ours and wins; a damaged one is moved aside and replaced.
 */
export function publishImage(tmp: string, imagesDir: string, id: string): CachedImage {
  const final = join(imagesDir, id);
  for (let attempt = 1; ; attempt++) {
    try {
      renameSync(tmp, final);
      break;
    } catch (err) {
      if (!['ENOTEMPTY', 'EEXIST'].includes((err as NodeJS.ErrnoException).code ?? '') || attempt === 3) throw err;
      const there = readImage(imagesDir, id);
      if (there.state === 'ok') {
        rmSync(tmp, { recursive: true, force: true });
        return there.image;
      }
      discardImageDir(imagesDir, id);
    }
  }
  const built = readImage(imagesDir, id);
  if (built.state === 'ok') return built.image;
  throw new ImageBuildError(
    `image ${id} is unusable right after it was built: ${built.state === 'damaged' ? describeDamage(built) : `${final} vanished`}`,
  );
}
