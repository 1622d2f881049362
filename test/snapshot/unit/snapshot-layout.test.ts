/**
 * Snapshots go stale by what decides compatibility, the VMM configuration itself, not by a version
 * number someone must remember to bump: the layout hash follows the command line (QEMU) or the boot
 * requests (Firecracker), and ignores what differs per VM or is keyed separately (paths, size).
 */
import { describe, expect, it } from 'vitest';
import { fcSnapshotLayout } from '../../../src/host/vm/firecracker/warm-store.js';
import { qemuSnapshotLayout } from '../../../src/host/vm/qemu/snapshot-layout.js';
import { snapshotKey } from '../../../src/host/vm/qemu/snapshot.js';

describe('snapshot layout', () => {
  it('QEMU: a different device set (a NIC) is another layout; the VM size is not', () => {
    expect(qemuSnapshotLayout('tcg', 'none')).toMatch(/^[0-9a-f]{16}$/);
    expect(qemuSnapshotLayout('tcg', 'none')).toBe(qemuSnapshotLayout('tcg', 'none'));
    expect(qemuSnapshotLayout('tcg', 'nat')).not.toBe(qemuSnapshotLayout('tcg', 'none'));
    expect(qemuSnapshotLayout('kvm', 'none')).not.toBe(qemuSnapshotLayout('tcg', 'none'));
    const parts = {
      imageId: 'abcdef0123456789',
      qemuVersion: 'QEMU 7.2',
      vcpus: 1,
      memoryMiB: 512,
      accel: 'tcg',
      cpuModel: 'tcg',
      net: 'none' as const,
    };
    // Size is in the key itself, so two sizes get two snapshots of one layout.
    expect(snapshotKey({ ...parts, memoryMiB: 448 })).not.toBe(snapshotKey(parts));
  });

  it('Firecracker: the layout is stable and a 16-hex hash', () => {
    expect(fcSnapshotLayout()).toMatch(/^[0-9a-f]{16}$/);
    expect(fcSnapshotLayout()).toBe(fcSnapshotLayout());
  });
});
