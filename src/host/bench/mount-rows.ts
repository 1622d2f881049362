/**
 * Bench rows for mounts (issue #15 §3): write/read MB/s and metadata speed on a 9p mount (the device
 * `-v` uses), on the VM's own disk and as a copy in over SFTP (`cp`'s path), all in one warm VM. virtio-fs
 * was measured by hand (README: Measured): a warm clone cannot have it (its RAM is not shared).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoadedConfig } from '../config/load.js';
import { VmSession } from '../session.js';
import type { GhostPaths } from '../store/paths.js';
import { FS_BENCH_FILES, FS_BENCH_MB, guestFsFigures, type FsFigures } from './fs-figures.js';
import { sftpMBps } from './sftp-figures.js';
import { summarize, type BenchRow } from './stats.js';

export async function mountRows(
  rows: BenchRow[],
  config: LoadedConfig,
  paths: GhostPaths,
  log: (m: string) => void,
): Promise<void> {
  log(
    `mounts: ${FS_BENCH_MB} MB write + read and ${FS_BENCH_FILES} files create + stat + unlink, on a 9p mount, the VM's disk and over SFTP`,
  );
  const host = mkdtempSync(join(tmpdir(), 'vg-bench-mount-'));
  const withMount: LoadedConfig = {
    ...config,
    values: { ...config.values, mounts: [`${host}:/work`] },
    origins: { ...config.origins, mounts: 'flag' },
  };
  const s = await VmSession.start({ config: withMount, paths, signal: new AbortController().signal });
  let mount: FsFigures, disk: FsFigures, sftp: { put: number; get: number };
  try {
    const ssh = s.ssh;
    if (!ssh) throw new Error('no SSH connection');
    mount = await guestFsFigures(ssh, '/work');
    disk = await guestFsFigures(ssh, '/root');
    sftp = await sftpMBps(ssh, FS_BENCH_MB);
  } finally {
    await s.close();
    rmSync(host, { recursive: true, force: true });
  }
  rows.push({
    figure: 'mount (9p): write',
    unit: 'MB/s',
    value: summarize([mount.writeMBps]),
    baseline: { name: 'own disk', value: summarize([disk.writeMBps]) },
  });
  rows.push({
    figure: 'mount (9p): read',
    unit: 'MB/s',
    value: summarize([mount.readMBps]),
    baseline: { name: 'own disk', value: summarize([disk.readMBps]) },
  });
  rows.push({
    figure: `mount (9p): create + stat + unlink`,
    unit: 'files/s',
    value: summarize([mount.metaFilesPerSec]),
    baseline: { name: 'own disk', value: summarize([disk.metaFilesPerSec]) },
  });
  rows.push({
    figure: 'cp in (SFTP put) instead of a mount',
    unit: 'MB/s',
    value: summarize([sftp.put]),
    baseline: { name: 'mount write', value: summarize([mount.writeMBps]) },
  });
  rows.push({
    figure: 'cp out (SFTP get) instead of a mount',
    unit: 'MB/s',
    value: summarize([sftp.get]),
    baseline: { name: 'mount read', value: summarize([mount.readMBps]) },
  });
}
