/**
 * Firecracker snapshots (docs/snapshotting/snapshot-support.md).
 *
 * Create: PATCH /vm Paused → PUT /snapshot/create (Full) → copy the root disk while still paused (disk
 * contents must match the memory image; Firecracker leaves disk files to us) → PATCH /vm Resumed.
 * Load: only into a fresh process, before anything but logger/metrics is configured: PUT /snapshot/load with
 * `mem_backend` File, `vsock_override` pointing at the new instance's socket, `resume_vm: true`. The memory
 * file is mapped MAP_PRIVATE for the whole life of the restored VM: it must stay in place and unmodified,
 * and several restores may share it. On a failed load Firecracker ends its own process.
 */
import type { components } from './api-types.generated.js';
import type { FcLayout } from './layout.js';

export interface VmSnapshot {
  readonly backend: 'firecracker';
  readonly dir: string;
  readonly statePath: string;
  readonly memPath: string;
  /** Root disk as it was at snapshot time; each restore gets its own copy of it. */
  readonly diskPath: string;
}

export const SNAPSHOT_FILES = { state: 'vm.vmstate', mem: 'vm.mem', disk: 'rootfs.ext4' } as const;

export function snapshotLoadRequest(
  statePathForVmm: string,
  memPathForVmm: string,
  layout: FcLayout,
): components['schemas']['SnapshotLoadParams'] {
  return {
    snapshot_path: statePathForVmm,
    mem_backend: { backend_type: 'File', backend_path: memPathForVmm },
    vsock_override: { uds_path: layout.vm('vsockSocket') },
    resume_vm: true,
  };
}
