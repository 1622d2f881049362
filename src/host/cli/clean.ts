/** `virtualghost clean [--images]`: removes leftovers of dead VMs (and, with --images, the image cache). */
import { existsSync, rmSync } from 'node:fs';
import { errorMessage } from '../../shared/errors.js';
import { removeStaleBuilds } from '../image/cache.js';
import { registryDirs } from '../image/registry/blob-cache.js';
import { cleanStaleVms } from '../store/clean.js';
import { ghostPaths } from '../store/paths.js';
import { removeAbandonedSnapshotBuilds } from '../vm/warm-snapshots.js';
import { notice } from './context.js';
import { removeDeadPoolDir } from '../pool/files.js';

export async function clean(opts: { images?: boolean }): Promise<number> {
  const paths = ghostPaths();
  const report = await cleanStaleVms(paths.vmsDir);
  for (const pid of report.killedPids) process.stdout.write(`killed orphaned VMM (pid ${pid})\n`);
  for (const pid of report.killedHelpers) process.stdout.write(`killed orphaned NAT (pid ${pid})\n`);
  for (const d of report.removedDirs) process.stdout.write(`removed ${d}\n`);
  for (const d of report.inUse) process.stdout.write(`kept ${d} (in use)\n`);
  const pool = removeDeadPoolDir(paths);
  if (pool === 'removed') process.stdout.write('removed the standby pool dir left by a killed pool\n');
  // One that cannot be removed (a mount left inside by a killed build: EBUSY) must not stop the rest.
  const stuck = (path: string, err: unknown): void => notice(`could not remove ${path}: ${errorMessage(err)}`);
  const builds = removeStaleBuilds(paths.imagesDir, stuck);
  for (const b of builds) process.stdout.write(`removed interrupted image build ${b}\n`);
  const snapshots = removeAbandonedSnapshotBuilds(paths.imagesDir, stuck);
  for (const s of snapshots) process.stdout.write(`removed interrupted warm snapshot ${s}\n`);
  if (opts.images) {
    rmSync(paths.imagesDir, { recursive: true, force: true });
    process.stdout.write(`removed the image cache ${paths.imagesDir}\n`);
    // Pulled layers and their layouts are part of the image cache too (registry/, beside images/).
    const pulled = registryDirs(paths.cacheDir).root;
    if (existsSync(pulled)) {
      rmSync(pulled, { recursive: true, force: true });
      process.stdout.write(`removed the registry layer cache ${pulled}\n`);
    }
  }
  const removed = report.removedDirs.length + report.killedPids.length + builds.length + snapshots.length;
  if (removed === 0 && pool !== 'removed' && !opts.images) process.stdout.write('nothing to clean\n');
  return 0;
}
