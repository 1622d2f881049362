import { renameSync, writeFileSync } from 'node:fs';

/**
 * Writes a small state or cache file so that readers see the old content or the new, never half of it:
 * a temp file beside it (same filesystem, named by our pid), then rename over.
 */
export function writeFileAtomic(file: string, data: string, mode = 0o600): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, data, { mode });
  renameSync(tmp, file);
}
