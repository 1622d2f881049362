/**
 * Creates a Firecracker warm snapshot: boot a template VM cold, warm it up exactly as QEMU's template is
 * (vm/template-warmup.ts: session with the clock a day behind, SSH, exec, PTY exec, spare shell), `sync`
 * in the guest (Firecracker does not flush the guest's writes for us, snapshot-support.md), then the
 * driver's pause → /snapshot/create (Full) → disk copy while paused → resume, and stop the template.
 * Published atomically: built in snapshots/.tmp-<key>-<pid>-<start>-<rand>/ (store/temp-dir.ts), renamed
 * into place only complete; `clean` removes one whose creator was killed.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CachedImage } from '../../image/cache.js';
import type { InstanceDir, VmDriver, VmSpec } from '../driver.js';
import type { Snapshotter } from './contracts.js';
import { FirecrackerSnapshotError } from './errors.js';
import { publishSnapshot } from '../snapshot-publisher.js';
import {
  fcSnapshotKey,
  fileBytes,
  findFcSnapshot,
  META_FILE,
  snapshotsDir,
  type FcSnapshotMeta,
  type FcWarmParts,
  type FcWarmSnapshotFiles,
} from './warm-store.js';

export interface CreateFcSnapshotOptions {
  image: CachedImage;
  parts: FcWarmParts;
  /** Makes the template's driver (a cold boot). */
  createDriver(spec: VmSpec, dir: InstanceDir): VmDriver & Snapshotter;
  spec: VmSpec;
  vmDir: InstanceDir;
  signal: AbortSignal;
  timeoutMs: number;
}

export function createFcSnapshot(opts: CreateFcSnapshotOptions): Promise<FcWarmSnapshotFiles> {
  const key = fcSnapshotKey(opts.parts);
  return publishSnapshot({
    root: snapshotsDir(opts.image),
    key,
    signal: opts.signal,
    find: () => findFcSnapshot(opts.image, opts.parts),
    fail: (message, cause) =>
      new FirecrackerSnapshotError(
        message.replace('a warm snapshot', 'a Firecracker warm snapshot'),
        cause === undefined ? undefined : { cause },
      ),
    isOwnError: (err) => err instanceof FirecrackerSnapshotError,
    build: async (tmp) => {
      let driver: (VmDriver & Snapshotter) | undefined;
      try {
        driver = opts.createDriver(opts.spec, opts.vmDir);
        await driver.start(opts.signal);
        // Loaded here: it pulls in ssh2, which a restore does not need.
        const { warmUpTemplate } = await import('../template-warmup.js');
        await warmUpTemplate(driver, { signal: opts.signal, timeoutMs: opts.timeoutMs, syncDisk: true });
        // warmUpTemplate returned once the agent had seen our session end and the VMM had gone quiet: clones
        // start from "no host connected".
        const vm = await driver.snapshot(tmp, { signal: opts.signal });
        await driver.stop();
        const meta: FcSnapshotMeta = {
          backend: 'firecracker',
          key,
          ...opts.parts,
          bytes: fileBytes(vm),
          createdAt: new Date().toISOString(),
        };
        writeFileSync(join(tmp, META_FILE), `${JSON.stringify(meta, null, 2)}\n`);
        return { sealed: [vm.statePath, vm.memPath, vm.diskPath, join(tmp, META_FILE)] };
      } catch (err) {
        await driver?.stop().catch(() => undefined);
        throw err;
      }
    },
  });
}
