/**
 * Creates a Firecracker warm snapshot: boot a template VM cold, warm it up exactly as QEMU's template is
 * (vm/template-warmup.ts: session with the clock a day behind, SSH, exec, PTY exec, spare shell), `sync`
 * in the guest (Firecracker does not flush the guest's writes for us, snapshot-support.md), then the
 * driver's pause → /snapshot/create (Full) → disk copy while paused → resume, and stop the template.
 * Published atomically: built in snapshots/.tmp-<key>-<pid>-<start>-<rand>/ (store/temp-dir.ts), renamed
 * into place only complete; `clean` removes one whose creator was killed.
 */
import { chmodSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../../../shared/errors.js';
import type { CachedImage } from '../../image/cache.js';
import type { InstanceDir, VmDriver, VmSpec } from '../driver.js';
import type { Snapshotter } from './contracts.js';
import { FirecrackerSnapshotError } from './errors.js';
import { tempDirName } from '../../store/temp-dir.js';
import { SNAPSHOT_TMP_PREFIX } from '../warm-snapshots.js';
import { fcSnapshotKey, fileBytes, findFcSnapshot, META_FILE, snapshotsDir, type FcSnapshotMeta, type FcWarmParts, type FcWarmSnapshotFiles } from './warm-store.js';

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

/** Snapshots being created by this process: concurrent sessions wait for one template instead of racing. */
const inFlight = new Map<string, Promise<FcWarmSnapshotFiles>>();

export function createFcSnapshot(opts: CreateFcSnapshotOptions): Promise<FcWarmSnapshotFiles> {
  const id = `${opts.image.dir}/${fcSnapshotKey(opts.parts)}`;
  let p = inFlight.get(id);
  if (!p) {
    p = createOnce(opts).finally(() => inFlight.delete(id));
    inFlight.set(id, p);
  }
  return p;
}

async function createOnce(opts: CreateFcSnapshotOptions): Promise<FcWarmSnapshotFiles> {
  const key = fcSnapshotKey(opts.parts);
  const root = snapshotsDir(opts.image);
  mkdirSync(root, { recursive: true });
  const tmp = join(root, tempDirName(SNAPSHOT_TMP_PREFIX, key));
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
    const meta: FcSnapshotMeta = { backend: 'firecracker', key, ...opts.parts, bytes: fileBytes(vm), createdAt: new Date().toISOString() };
    writeFileSync(join(tmp, META_FILE), `${JSON.stringify(meta, null, 2)}\n`);
    for (const file of [vm.statePath, vm.memPath, vm.diskPath, join(tmp, META_FILE)]) chmodSync(file, 0o444);
    chmodSync(tmp, 0o755);
    try {
      renameSync(tmp, join(root, key));
    } catch {
      // Another process published the same snapshot first: use theirs.
      rmSync(tmp, { recursive: true, force: true });
    }
    const found = findFcSnapshot(opts.image, opts.parts);
    if (!found) throw new FirecrackerSnapshotError(`warm snapshot ${key} in ${root} vanished or was damaged right after it was saved`);
    return found;
  } catch (err) {
    await driver?.stop().catch(() => undefined);
    rmSync(tmp, { recursive: true, force: true });
    opts.signal.throwIfAborted();
    throw err instanceof FirecrackerSnapshotError ? err : new FirecrackerSnapshotError(`could not create a Firecracker warm snapshot: ${errorMessage(err)}`, { cause: err });
  }
}
