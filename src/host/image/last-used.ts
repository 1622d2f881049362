/**
 * When an image was last used to start a VM (image ls, image prune): the mtime of `last-used` in its
 * dir, made anew on every start. An image never used since this was recorded counts from its creation.
 */
import { randomBytes } from 'node:crypto';
import { renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CachedImage } from './cache.js';

const FILE = 'last-used';

export function markUsed(image: CachedImage): void {
  // A new file renamed over the old one, never a write into it: the file may be a hard link shared with
  // another cache (tests link the user's images), and a symlink planted there is replaced, not followed.
  const tmp = join(image.dir, `.${FILE}-${randomBytes(4).toString('hex')}`);
  try {
    writeFileSync(tmp, `${new Date().toISOString()}\n`, { flag: 'wx', mode: 0o644 });
    renameSync(tmp, join(image.dir, FILE));
  } catch {
    rmSync(tmp, { force: true });
    /* a read-only cache still runs VMs; only prune's idea of "unused" is the poorer */
  }
}

export function lastUsed(image: CachedImage): Date {
  try {
    return statSync(join(image.dir, FILE)).mtime;
  } catch {
    return new Date(image.manifest.createdAt);
  }
}
