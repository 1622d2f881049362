/**
 * What the Firecracker backend's modules agree on, apart from the factory that implements it: its options,
 * the snapshot capabilities (separate interfaces with type guards, never stub methods on VmDriver), and
 * what a warm-snapshot store needs of a factory. Kept here so that the factory (driver.ts) can import the
 * modules it composes (probe, vm, warm) without those importing it back.
 */
import type { Accel, InstanceDir, VmDriver, VmDriverFactory, VmSpec } from '../driver.js';
import type { JailerOptions } from './jailer.js';
import type { VmSnapshot } from './snapshot.js';

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

/** What the warm-snapshot store uses of the factory (FirecrackerDriverFactory implements it). */
export interface FirecrackerSnapshotHost extends SnapshotRestorer {
  readonly options: FirecrackerOptions;
  create(spec: VmSpec, dir: InstanceDir, accel: Accel): VmDriver & Snapshotter;
  /** The Firecracker version string, part of a warm snapshot's identity. */
  version(): Promise<string>;
}
