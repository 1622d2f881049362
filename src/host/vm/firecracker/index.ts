/** Public surface of the Firecracker backend. */
export { FirecrackerDriverFactory, isSnapshotRestorer, isSnapshotter } from './driver.js';
export type { FirecrackerOptions, JailerOptions, SnapshotRestorer, Snapshotter, VmSnapshot } from './driver.js';
export { kvmCanRunGuest, DEFAULT_KVM_CHECK_TIMEOUT_MS } from '../kvm-check.js';
export type { KvmCheckOptions, KvmCheckResult } from '../kvm-check.js';
export { MIN_FIRECRACKER_VERSION, parseFirecrackerVersion } from './version.js';
export { FC_BOOT_ARGS } from './boot-requests.js';
export {
  FirecrackerApiError,
  FirecrackerApiUnreachableError,
  FirecrackerJailerConfigError,
  FirecrackerSnapshotError,
} from './errors.js';
