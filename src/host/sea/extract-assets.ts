/**
 * The executable's host assets (agent bundle, helper source, init scripts, node-pty, host-packages.json,
 * the guest's Node runtime) as files on disk: extracted on first use into the cache under
 * sea/<assetsId>/, laid out like the package root, so that every reader (projectFiles, hostPackages)
 * works on them unchanged. Content-addressed (a new executable gets a new dir), private (0700: the
 * runtime copied into every guest must not be swappable by another user) and atomic: written into a
 * temp dir, each file checked against its recorded sha256, then renamed into place, so a dir that
 * exists is complete. Synchronous, because its callers (the image recipe's payload hash) are.
 */
import { createHash } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { assertPrivateDir, ensurePrivateDir } from '../store/private-dir.js';
import { ghostPaths } from '../store/paths.js';
import { removeAbandoned, tempDirName } from '../store/temp-dir.js';
import { embeddedAsset, seaManifest, type SeaManifest } from './embedded.js';

const TMP_PREFIX = '.tmp-';

/** The assets dir of this executable (extracting it first if needed), or null outside the executable. */
export function extractedAssetsRoot(cacheDir = ghostPaths().cacheDir): string | null {
  const m = seaManifest();
  return m ? ensureAssetsExtracted(m, join(cacheDir, 'sea')) : null;
}

export function ensureAssetsExtracted(m: SeaManifest, seaDir: string): string {
  if (!/^[0-9a-f]{16}$/.test(m.assetsId)) throw new Error(`the executable's asset id ${m.assetsId} is malformed`);
  const final = join(seaDir, m.assetsId);
  ensurePrivateDir(seaDir);
  // It appears only by the rename below, so a dir there is complete; it must still be ours and private.
  if (lstatSync(final, { throwIfNoEntry: false })) {
    assertPrivateDir(final);
    return final;
  }
  removeAbandoned(seaDir, TMP_PREFIX);
  const tmp = join(seaDir, tempDirName(TMP_PREFIX, m.assetsId));
  ensurePrivateDir(tmp);
  try {
    for (const f of m.files) writeAsset(tmp, f);
    try {
      renameSync(tmp, final);
    } catch (err) {
      // Another process extracted the same assets first: its copy is as good as ours.
      if (!['ENOTEMPTY', 'EEXIST'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
      rmSync(tmp, { recursive: true, force: true });
    }
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  assertPrivateDir(final);
  return final;
}

function writeAsset(root: string, f: SeaManifest['files'][number]): void {
  // Our own packer wrote the names, but a path is only ever written inside the dir it belongs to.
  const out = resolve(root, f.path);
  const rel = relative(root, out);
  if (rel === '' || rel.startsWith('..') || rel.split(sep).includes('..'))
    throw new Error(`the executable's asset ${JSON.stringify(f.path)} names a path outside its dir`);
  const raw = embeddedAsset(f.asset);
  const data = f.gzip ? gunzipSync(raw) : raw;
  const sha256 = createHash('sha256').update(data).digest('hex');
  if (sha256 !== f.sha256 || data.length !== f.bytes)
    throw new Error(
      `the executable's asset ${f.path} does not match its manifest (sha256 ${sha256}, ${data.length} bytes): the executable is damaged; download or build it again`,
    );
  mkdirSync(dirname(out), { recursive: true, mode: 0o700 });
  writeFileSync(out, data, { mode: 0o600 });
  chmodSync(out, f.mode & 0o755);
}
