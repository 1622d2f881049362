import { renameSync, rmSync, writeFileSync } from 'node:fs';

/**
 * Writes a small state or cache file so that readers see the old content or the new, never half of it:
 * a temp file beside it (same filesystem, named by our pid), then rename over. A write that fails (a full
 * disk) leaves no temp file behind.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o600): void {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, data, { mode });
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
