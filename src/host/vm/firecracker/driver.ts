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
import type { JailerOptions } from './jailer.js';
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

export interface FirecrackerOptions {
  /** Firecracker binary (config `firecracker.bin`); default: `firecracker` on PATH. */
  readonly bin?: string;
  /** Boot a test guest in probe() to prove KVM works (config `firecracker.kvm_check`, default true). */
  readonly kvmCheck: boolean;
  /** Run Firecracker under its jailer (config `firecracker.jailer` + uid/gid/chroot base). */
  readonly jailer?: JailerOptions;
  /** Environment for the VMM and probe processes (default: ours). */
  readonly env?: NodeJS.ProcessEnv;
  /** For tests and unusual hosts. */
  readonly kvmDevice?: string;
  readonly kvmCheckTimeoutMs?: number;
}

/** A running VM that can be snapshotted: pause → /snapshot/create → copy disk → resume. */
export interface Snapshotter {
  snapshot(destDir: string, opts?: { signal?: AbortSignal }): Promise<VmSnapshot>;
}

/** A factory that can bring a snapshot back to life in a fresh VMM process. */
export interface SnapshotRestorer {
  /** A driver whose start() loads `snapshot` instead of booting; each restore gets its own disk copy. */
  restore(snapshot: VmSnapshot, spec: VmSpec, dir: InstanceDir, accel: Accel): VmDriver & Snapshotter;
}

export function isSnapshotter(driver: VmDriver): driver is VmDriver & Snapshotter {
  return typeof (driver as Partial<Snapshotter>).snapshot === 'function';
}

export function isSnapshotRestorer(factory: VmDriverFactory): factory is VmDriverFactory & SnapshotRestorer {
  return typeof (factory as Partial<SnapshotRestorer>).restore === 'function';
}

export class FirecrackerDriverFactory implements VmDriverFactory, SnapshotRestorer, WarmSnapshotFactory {
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
    this.#version ??= readFirecrackerVersion(findExecutable(this.options.bin ?? 'firecracker') ?? this.options.bin ?? 'firecracker', this.options.env);
    return this.#version;
  }

  #vmConfig(accel: Accel): ConstructorParameters<typeof FirecrackerVm>[2] {
    if (accel !== 'kvm') throw new VmBackendUnavailableError(`Firecracker runs only with KVM (asked for accel=${accel}); use the qemu backend for TCG`);
    const bin = findExecutable(this.options.bin ?? 'firecracker');
    if (!bin) throw new VmBackendUnavailableError(`Firecracker binary ${this.options.bin ?? '`firecracker` on PATH'} not found; run \`virtualghost doctor\``);
    if (this.options.jailer) validateJailer(this.options.jailer, bin);
    return { firecrackerBin: bin, ...(this.options.jailer ? { jailer: this.options.jailer } : {}), ...(this.options.env ? { env: this.options.env } : {}) };
  }
}
