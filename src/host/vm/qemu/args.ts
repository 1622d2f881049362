/**
 * The QEMU `microvm` command line (pure, so it is unit-tested). Facts measured on these machines (see
 * DESIGN.md §3): PVH boot of the uncompressed vmlinux; ACPI so the Debian kernel finds the virtio-mmio
 * devices; under TCG `tsc_early_khz` (else ~1 boot in 4 hangs calibrating against the PIT) and
 * `tb-size=64` (−55 MB RSS); virtio-rng (else Node blocks on entropy).
 */
import { VIRTIO_PORT_NAMES, STREAM_NAMES } from '../../../shared/ports.js';
import type { Accel, InstanceDir, VmSpec } from '../driver.js';

export const QEMU_FILES = {
  overlay: 'overlay.qcow2',
  console: 'console.log',
  qmp: 'qmp.sock',
  log: 'qemu.log',
  socket: (stream: string) => `${stream}.sock`,
} as const;

export interface QemuArgsInput {
  spec: VmSpec;
  dir: InstanceDir;
  accel: Accel;
  /** Host TSC frequency in kHz (TCG only). */
  tscKhz?: number;
  /** Restore from a migration stream instead of booting (snapshots). */
  incoming?: string;
  /** Where the VM's writable layer lives (default: overlay.qcow2 in the VM dir; a snapshot template keeps its own). */
  overlayPath?: string;
}

export function kernelCommandLine(accel: Accel, tscKhz: number | undefined, extra: readonly string[] = []): string {
  const words = ['console=ttyS0', 'quiet', 'loglevel=3', 'panic=-1', 'reboot=t', 'rootwait'];
  // tsc=reliable: under TCG the clocksource watchdog, comparing against jiffies that lose ticks on a busy
  // host, marks the (accurate, host-derived) TSC unstable, and the guest falls back to jiffies: a wall
  // clock that runs ~10% slow under load and 4 ms timer granularity.
  if (accel === 'tcg' && tscKhz !== undefined) words.push('tsc=reliable', `tsc_early_khz=${tscKhz}`);
  return [...words, ...extra].join(' ');
}

export function qemuArgs(input: QemuArgsInput): string[] {
  const { spec, dir, accel } = input;
  const args = [
    '-name', `virtualghost-${spec.name}`,
    '-M', 'microvm,acpi=on',
    ...(accel === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg,tb-size=64']),
    '-nodefaults', '-no-user-config', '-nographic', '-no-reboot',
    '-m', `${spec.memoryMiB}M`,
    '-smp', String(spec.vcpus),
    '-kernel', spec.kernelPath,
    '-initrd', spec.initrdPath,
    '-append', kernelCommandLine(accel, input.tscKhz, spec.extraKernelArgs),
    '-chardev', `file,id=console,path=${dir.file(QEMU_FILES.console)}`,
    '-serial', 'chardev:console',
    '-device', 'virtio-rng-device',
    '-drive', `id=root,file=${input.overlayPath ?? dir.file(QEMU_FILES.overlay)},format=qcow2,if=none,discard=unmap`,
    '-device', 'virtio-blk-device,drive=root',
    '-device', 'virtio-serial-device,max_ports=4',
  ];
  for (const stream of STREAM_NAMES) {
    args.push('-chardev', `socket,id=${stream},path=${dir.file(QEMU_FILES.socket(stream))},server=on,wait=off`);
    args.push('-device', `virtserialport,chardev=${stream},name=${VIRTIO_PORT_NAMES[stream]}`);
  }
  args.push('-qmp', `unix:${dir.file(QEMU_FILES.qmp)},server=on,wait=off`);
  if (input.incoming !== undefined) args.push('-incoming', input.incoming);
  return args;
}
