/**
 * The single executable's figures (`--only executable`): its size with and without the image, how long
 * its first run takes to unpack the image (`image build` into an empty cache), and `exec -- true` warm
 * from it against `node bin/virtualghost.js` — the difference is the start-up cost of the executable
 * (a 230 MB file, its bundled CLI and its SEA blob) over a plain Node start.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../image/project-files.js';

/** Runs a command to completion; throws (with what it said) unless it exits 0. */
function run(file: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    p.on('error', reject);
    p.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${file} ${args.join(' ')} exited with ${code}: ${err}`)),
    );
  });
}

/** Packs the executable into `dir` (scripts/package.mjs, from this checkout's dist/); returns its path and size. */
export async function packExecutable(dir: string, withImage: boolean): Promise<{ file: string; bytes: number }> {
  const file = join(dir, withImage ? 'virtualghost' : 'virtualghost-no-image');
  await run(process.execPath, [
    join(packageRoot(), 'scripts', 'package.mjs'),
    '--out',
    file,
    ...(withImage ? [] : ['--no-image']),
  ]);
  return { file, bytes: statSync(file).size };
}

/** Wall time of the executable's first run in an empty cache: unpacking its image (`image build`), ms. */
export async function firstRunExtractionMs(exe: string): Promise<number> {
  const cache = mkdtempSync(join(tmpdir(), 'vg-bench-sea-'));
  try {
    const t0 = performance.now();
    await run(exe, ['image', 'build'], { ...process.env, XDG_CACHE_HOME: cache });
    return performance.now() - t0;
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}
