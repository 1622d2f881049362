/**
 * The Firecracker backend: a VmDriverFactory named 'firecracker', plus the optional snapshot capabilities
 * (separate interfaces with type guards, never stub methods on VmDriver).
 *
 *   const factory = new FirecrackerDriverFactory({ bin: cfg.firecracker.bin, kvmCheck: cfg.firecracker.kvm_check });
 *   const probe = await factory.probe();             // reason + remedy when it cannot run here
 *   await using vm = factory.create(spec, dir, 'kvm');
 *   await vm.start(signal);
 *   const ssh = await vm.channel('ssh').connect({ signal, timeoutMs: 10_000 });
 *   if (isSnapshotter(vm)) { const snap = await vm.snapshot(snapDir); ... factory.restore(snap, spec, dir2, 'kvm') }
 */
import type { Accel, InstanceDir, VmDriver, VmDriverFactory, VmSpec, ProbeResult } from '../driver.js';
import { VmBackendUnavailableError } from '../errors.js';
import type { FirecrackerOptions, FirecrackerSnapshotHost, Snapshotter } from './contracts.js';
import { validateJailer } from './jailer.js';
import { probeFirecracker } from './probe.js';
import type { VmSnapshot } from './snapshot.js';
import { FirecrackerVm } from './vm.js';
import { findExecutable } from '../which.js';
import type { WarmSnapshotFactory } from '../warm-snapshots.js';
import { readFirecrackerVersion } from './version.js';
import { FirecrackerWarmSnapshots } from './warm.js';

export type { VmSnapshot } from './snapshot.js';
export type { JailerOptions } from './jailer.js';
export { isSnapshotRestorer, isSnapshotter } from './contracts.js';
export type { FirecrackerOptions, FirecrackerSnapshotHost, SnapshotRestorer, Snapshotter } from './contracts.js';

export class FirecrackerDriverFactory implements VmDriverFactory, FirecrackerSnapshotHost, WarmSnapshotFactory {
  readonly name = 'firecracker' as const;
  #version: Promise<string> | undefined;

  constructor(readonly options: FirecrackerOptions) {}

  probe(): Promise<ProbeResult> {
    return probeFirecracker(this.options);
  }

  create(spec: VmSpec, dir: InstanceDir, accel: Accel): VmDriver & Snapshotter {
    return new FirecrackerVm(spec, dir, this.#vmConfig(accel), { kind: 'boot' });
  }

  restore(snapshot: VmSnapshot, spec: VmSpec, dir: InstanceDir, accel: Accel): VmDriver & Snapshotter {
    return new FirecrackerVm(spec, dir, this.#vmConfig(accel), { kind: 'restore', snapshot });
  }

  warmSnapshots(): FirecrackerWarmSnapshots {
    return new FirecrackerWarmSnapshots(this);
  }

  /** `1.16.1`: part of a warm snapshot's identity (asked once per factory). */
  version(): Promise<string> {
    this.#version ??= readFirecrackerVersion(
      findExecutable(this.options.bin ?? 'firecracker') ?? this.options.bin ?? 'firecracker',
      this.options.env,
    );
    return this.#version;
  }

  #vmConfig(accel: Accel): ConstructorParameters<typeof FirecrackerVm>[2] {
    if (accel !== 'kvm')
      throw new VmBackendUnavailableError(
        `Firecracker runs only with KVM (asked for accel=${accel}); use the qemu backend for TCG`,
      );
    const bin = findExecutable(this.options.bin ?? 'firecracker');
    if (!bin)
      throw new VmBackendUnavailableError(
        `Firecracker binary ${this.options.bin ?? '`firecracker` on PATH'} not found; run \`virtualghost doctor\``,
      );
    if (this.options.jailer) validateJailer(this.options.jailer, bin);
    return {
      firecrackerBin: bin,
      ...(this.options.jailer ? { jailer: this.options.jailer } : {}),
      ...(this.options.env ? { env: this.options.env } : {}),
    };
  }
}
