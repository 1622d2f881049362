/**
 * Firecracker's side of warm starts (vm/warm-snapshots.ts). A clone is a fresh Firecracker process with
 * its own copy of the snapshot's disk in its own per-VM dir (or chroot), loading the snapshot with
 * mem_backend File and vsock_override to its own socket, then resumed (vm.ts `#load`). Drive paths in the
 * snapshot are relative to the VMM's root (layout.ts), which is what lets every clone find its own copy.
 */
import type { CachedImage } from '../../image/cache.js';
import type { Accel, InstanceDir, VmSpec } from '../driver.js';
import type { WarmKey, WarmRestore, WarmSnapshot, WarmSnapshots, WarmTemplateRequest } from '../warm-snapshots.js';
import type { FirecrackerSnapshotHost } from './contracts.js';
import {
  fcSnapshotKey,
  findFcSnapshot,
  hostParts,
  removeFcSnapshot,
  type FcWarmParts,
  type FcWarmSnapshotFiles,
} from './warm-store.js';
import { createFcSnapshot } from './warm-template.js';

export interface FcWarmKey extends WarmKey {
  readonly parts: FcWarmParts;
}

export interface FcWarmSnapshot extends WarmSnapshot {
  readonly files: FcWarmSnapshotFiles;
}

const wrap = (files: FcWarmSnapshotFiles): FcWarmSnapshot => ({ key: files.meta.key, dir: files.dir, files });

export class FirecrackerWarmSnapshots implements WarmSnapshots<FcWarmKey, FcWarmSnapshot> {
  constructor(private readonly factory: FirecrackerSnapshotHost) {}

  async key(image: CachedImage, spec: VmSpec): Promise<FcWarmKey> {
    const parts: FcWarmParts = {
      imageId: image.id,
      firecrackerVersion: await this.factory.version(),
      vcpus: spec.vcpus,
      memoryMiB: spec.memoryMiB,
      jailed: this.factory.options.jailer !== undefined,
      net: spec.net ?? 'none',
      ...hostParts(),
    };
    return { id: fcSnapshotKey(parts), parts };
  }

  find(image: CachedImage, key: FcWarmKey, onDiscard?: (why: string) => void): FcWarmSnapshot | undefined {
    const files = findFcSnapshot(image, key.parts, onDiscard);
    return files && wrap(files);
  }

  async create(req: WarmTemplateRequest<FcWarmKey>): Promise<FcWarmSnapshot> {
    const { image, key, spec, accel, vmDir, signal, timeoutMs } = req;
    return wrap(
      await createFcSnapshot({
        image,
        parts: key.parts,
        spec,
        vmDir,
        signal,
        timeoutMs,
        createDriver: (s, d) => this.factory.create(s, d, accel),
      }),
    );
  }

  restore(snapshot: FcWarmSnapshot, spec: VmSpec, dir: InstanceDir, accel: Accel): WarmRestore {
    const restoredSpec: VmSpec = { ...spec, rootfsPath: snapshot.files.vm.diskPath };
    return { driver: this.factory.restore(snapshot.files.vm, restoredSpec, dir, accel), spec: restoredSpec };
  }

  remove(snapshot: FcWarmSnapshot): void {
    removeFcSnapshot(snapshot.dir);
  }
}
