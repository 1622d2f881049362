/**
 * QEMU's side of warm starts (vm/warm-snapshots.ts): the session-level calls into snapshot.ts that used to
 * sit in session.ts `warmStart`, unchanged — the key covers image, QEMU version, vCPUs, memory, accel and (KVM) the host CPU model;
 * a clone maps the template's RAM copy-on-write, loads the saved device state, and has its own qcow2 layer
 * over the snapshot's disk.
 */
import type { CachedImage } from '../../image/cache.js';
import type { MarkFn } from '../../trace.js';
import type { Accel, InstanceDir, VmSpec } from '../driver.js';
import type { WarmKey, WarmRestore, WarmSnapshot, WarmSnapshots, WarmTemplateRequest } from '../warm-snapshots.js';
import type { QemuHost } from './qemu-host.js';
import { hostCpuModel } from '../host-cpu.js';
import {
  createSnapshot,
  findSnapshot,
  removeSnapshot,
  snapshotKey,
  type QemuSnapshot,
  type SnapshotMeta,
} from './snapshot.js';

export interface QemuWarmKey extends WarmKey {
  readonly parts: Omit<SnapshotMeta, 'key' | 'stateBytes' | 'diskBytes' | 'createdAt' | 'layout'>;
}

export interface QemuWarmSnapshot extends WarmSnapshot {
  readonly saved: QemuSnapshot;
}

const wrap = (saved: QemuSnapshot): QemuWarmSnapshot => ({ key: saved.meta.key, dir: saved.dir, saved });

export class QemuWarmSnapshots implements WarmSnapshots<QemuWarmKey, QemuWarmSnapshot> {
  constructor(private readonly factory: QemuHost) {}

  async key(image: CachedImage, spec: VmSpec, accel: Accel): Promise<QemuWarmKey> {
    // Under KVM the guest runs on the host's CPU model (`-cpu host`); under TCG on QEMU's own, which the version fixes.
    const cpuModel = accel === 'kvm' ? hostCpuModel() : 'tcg';
    const parts = {
      imageId: image.id,
      qemuVersion: await this.factory.version(),
      vcpus: spec.vcpus,
      memoryMiB: spec.memoryMiB,
      accel,
      cpuModel,
      net: spec.net ?? 'none',
    };
    return { id: snapshotKey(parts), parts };
  }

  find(image: CachedImage, key: QemuWarmKey, onDiscard?: (why: string) => void): QemuWarmSnapshot | undefined {
    const saved = findSnapshot(image, key.id, onDiscard);
    return saved && wrap(saved);
  }

  async create(req: WarmTemplateRequest<QemuWarmKey>): Promise<QemuWarmSnapshot> {
    const { image, accel, vmDir, signal, timeoutMs, spec, key } = req;
    return wrap(
      await createSnapshot({
        factory: this.factory,
        image,
        accel,
        vmDir,
        signal,
        timeoutMs,
        spec,
        meta: { key: key.id, ...key.parts },
      }),
    );
  }

  restore(snapshot: QemuWarmSnapshot, spec: VmSpec, dir: InstanceDir, accel: Accel, onMark: MarkFn): WarmRestore {
    const restoredSpec: VmSpec = { ...spec, rootfsPath: snapshot.saved.disk };
    const driver = this.factory.create(restoredSpec, dir, accel, {
      restore: { statePath: snapshot.saved.state, memoryPath: snapshot.saved.memory },
      backingFormat: 'qcow2',
      onMark,
    });
    return { driver, spec: restoredSpec };
  }

  remove(snapshot: QemuWarmSnapshot): void {
    removeSnapshot(snapshot.dir);
  }
}
