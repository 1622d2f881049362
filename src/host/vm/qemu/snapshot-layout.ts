/**
 * What decides whether a saved QEMU state fits a new QEMU process, apart from the QEMU version and the
 * CPU model (which the key names on their own): the machine, devices and options we start it with. So a
 * snapshot's layout is a hash of the exact command line qemuArgs() builds for a template, with the paths
 * that differ per VM or per cache replaced by placeholders and the VM's size fixed (size is in the key
 * already, and snapshots of other sizes must keep matching). Any change to the devices, their order, the
 * kernel command line or an option then makes old snapshots stale by itself: there is no layout version
 * to remember to bump.
 */
import type { NetProfile } from '../../../shared/guest-net.js';
import type { Accel, InstanceDir, VmSpec } from '../driver.js';
import { LAYOUT_TEMPLATE_SPEC, layoutHash } from '../warm-snapshots.js';
import { qemuArgs } from './args.js';
import { MOUNT_SLOTS } from '../../../shared/mounts.js';

const PLACEHOLDER_DIR: InstanceDir = { path: '/<vm-dir>', file: (name) => `/<vm-dir>/${name}` };

export function qemuSnapshotLayout(accel: string, net: NetProfile): string {
  const args = qemuArgs({
    spec: { ...LAYOUT_TEMPLATE_SPEC, net },
    dir: PLACEHOLDER_DIR,
    accel: accel as Accel,
    // The host's TSC rate is measured per boot: only whether the command line carries one is layout.
    ...(accel === 'tcg' ? { tscKhz: 1 } : {}),
    templateMemoryPath: '/<snapshot>/memory.bin',
    overlayPath: '/<snapshot>/disk.qcow2',
    ...(net !== 'none' ? { natSocketPath: '/<vm-dir>/nat.sock' } : {}),
    sharedFolders: { slots: MOUNT_SLOTS, idleDir: '/<vm-dir>/mount-idle' },
  });
  return layoutHash(args);
}

/**
 * The layout a suspended VM's state depends on (vm/suspend.ts): the command line of a kept VM of this
 * size, with its paths as placeholders. Unlike a template's, its RAM is anonymous and its size counts.
 */
export function qemuResumeLayout(spec: Pick<VmSpec, 'vcpus' | 'memoryMiB' | 'net'>, accel: Accel): string {
  const net = spec.net ?? 'none';
  const args = qemuArgs({
    spec: { ...LAYOUT_TEMPLATE_SPEC, vcpus: spec.vcpus, memoryMiB: spec.memoryMiB, net },
    dir: PLACEHOLDER_DIR,
    accel,
    ...(accel === 'tcg' ? { tscKhz: 1 } : {}),
    overlayPath: '/<kept>/disk.qcow2',
    ...(net !== 'none' ? { natSocketPath: '/<vm-dir>/nat.sock' } : {}),
  });
  return layoutHash(args);
}
