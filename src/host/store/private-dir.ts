/** Directories only the launching user may enter: created 0700, and refused if they are not ours. */
import { lstatSync, mkdirSync, chmodSync } from 'node:fs';
import { StoreUnsafeDirError } from './errors.js';

export function ensurePrivateDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  const st = lstatSync(path);
  const uid = process.getuid?.() ?? 0;
  if (!st.isDirectory() || st.uid !== uid) {
    throw new StoreUnsafeDirError(`${path} is not a directory owned by uid ${uid}; remove it (or set XDG_RUNTIME_DIR) and try again`);
  }
  if ((st.mode & 0o077) !== 0) chmodSync(path, 0o700);
}
