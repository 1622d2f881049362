/**
 * The QEMU `microvm` command line (pure, so it is unit-tested). Facts measured on these machines (see
 * DESIGN.md §3): PVH boot of the uncompressed vmlinux; ACPI so the Debian kernel finds the virtio-mmio
 * devices; under TCG `tsc_early_khz` (else ~1 boot in 4 hangs calibrating against the PIT) and
 * `tb-size=64` (−55 MB RSS); virtio-rng (else Node blocks on entropy).
 */
import { GUEST_NET, NET_KERNEL_PARAM } from '../../../shared/guest-net.js';
import { SSH_POOL_PORT_NAMES, STREAM_NAMES, VIRTIO_PORT_NAMES } from '../../../shared/ports.js';
import type { Accel, InstanceDir, VmSpec } from '../driver.js';
import { shellQuote } from '../../shell-quote.js';
import { INSTANCE_FILES } from '../../store/instance-files.js';
import { ninePArgs } from '../../workspace/qemu-9p.js';

export const QEMU_FILES = {
  overlay: 'overlay.qcow2',
  console: INSTANCE_FILES.console,
  qmp: 'qmp.sock',
  /** The empty dir idle shared-folder slots export (read-only): a clone's slots beyond its mounts. */
  idleMountDir: 'mount-idle',
  log: INSTANCE_FILES.qemuLog,
  // `vport-` keeps these apart from files others put in the VM dir (the named-VM relay is `ssh.sock`).
  socket: (stream: string) => `vport-${stream}.sock`,
  /** The host end of SSH pool port `index` (0-based; the guest port is SSH_POOL_PORT_NAMES[index]). */
  sshPoolSocket: (index: number) => `vport-ssh.${index + 1}.sock`,
} as const;

export interface QemuArgsInput {
  spec: VmSpec;
  dir: InstanceDir;
  accel: Accel;
  /** Host TSC frequency in kHz (TCG only). */
  tscKhz?: number;
  /**
   * Guest RAM in a file instead of anonymous memory (snapshots, see snapshot.ts). A template maps it
   * shared, so the guest's memory *is* the file and its migration stream skips it (x-ignore-shared).
   */
  templateMemoryPath?: string;
  /**
   * Restore a snapshot instead of booting: RAM is the template's file mapped private (copy-on-write: no
   * byte read up front, unchanged pages shared between clones), the device state is loaded at start-up,
   * and the clone runs as soon as it is loaded (the template was saved running).
   */
  restore?: { statePath: string; memoryPath?: string };
  /**
   * With restore: stay paused once the state is loaded, until the driver's QMP `cont` (a resume, whose
   * state file is verified while QEMU loads it).
   */
  startPaused?: boolean;
  /** Where the VM's writable layer lives (default: overlay.qcow2 in the VM dir; a snapshot template keeps its own). */
  overlayPath?: string;
  /** The NAT's listening socket when spec.net is not `none` (passt.ts): the NIC's backend. */
  natSocketPath?: string;
  /** 9p shared-folder slots (workspace/qemu-9p.ts): spec.mounts in the first, an empty dir in the rest. */
  sharedFolders?: { slots: number; idleDir: string };
  /** Or the TAP in the VM's network namespace (net/netns.ts, `qemu.nat = "tap"`); QEMU then runs in that namespace. */
  natTap?: string;
}

/** A value inside a QEMU `key=value,...` option: a comma is written twice (a cache under `~/a,b` stays one path). */
export const qemuOptionValue = (value: string): string => value.replaceAll(',', ',,');

export function kernelCommandLine(accel: Accel, tscKhz: number | undefined, extra: readonly string[] = []): string {
  const words = ['console=ttyS0', 'quiet', 'loglevel=3', 'panic=-1', 'reboot=t', 'rootwait'];
  // tsc=reliable: under TCG the clocksource watchdog, comparing against jiffies that lose ticks on a busy
  // host, marks the (accurate, host-derived) TSC unstable, and the guest falls back to jiffies: a wall
  // clock that runs ~10% slow under load and 4 ms timer granularity.
  if (accel === 'tcg' && tscKhz !== undefined) words.push('tsc=reliable', `tsc_early_khz=${tscKhz}`);
  // norandmaps: TCG finds a block it translated before only at the same virtual address, so with ASLR
  // every new process (each exec, each shell, bash's own libraries) re-translates its code: measured
  // here, 10 × /bin/true from sh took 0.91–0.98 s with randomization and 0.20–0.30 s without. Clones of
  // one snapshot share their layout anyway; with KVM, where translation costs nothing, ASLR stays on.
  if (accel === 'tcg') words.push('norandmaps');
  return [...words, ...extra].join(' ');
}

/** What the driver hands `migrate-incoming` for a restore: QEMU runs it with /bin/sh -c. */
export const restoreUri = (statePath: string): string => `exec:${shellQuote(['cat', statePath])}`;

/** The CPU model under TCG: QEMU's default with ARAT (see qemuArgs). */
export const TCG_CPU = 'qemu64,+arat';

export function qemuArgs(input: QemuArgsInput): string[] {
  const { spec, dir, accel } = input;
  // A resumed VM (suspend.ts) has no memoryPath: its RAM is anonymous, filled from the saved stream.
  const memoryFile = input.restore?.memoryPath
    ? { path: input.restore.memoryPath, shared: false }
    : input.templateMemoryPath
      ? { path: input.templateMemoryPath, shared: true }
      : undefined;
  const args = [
    '-name',
    `virtualghost-${spec.name}`,
    '-M',
    `microvm,acpi=on${memoryFile ? ',memory-backend=ram' : ''}`,
    ...(memoryFile
      ? [
          '-object',
          `memory-backend-file,id=ram,size=${spec.memoryMiB}M,mem-path=${qemuOptionValue(memoryFile.path)},share=${memoryFile.shared ? 'on' : 'off'}`,
        ]
      : []),
    // TCG's default qemu64 CPU lacks ARAT (an APIC timer that keeps running when idle): the guest kernel
    // then marks its lapic timer C3STOP, finds no broadcast device on microvm, and never leaves the
    // periodic tick — 250 wakeups a second of an idle guest (nohz_mode 0 in /proc/timer_list). With ARAT
    // it runs NO_HZ (highres) and an idle guest mostly sleeps: what a pooled clone does all day.
    ...(accel === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg,tb-size=64', '-cpu', TCG_CPU]),
    '-nodefaults',
    '-no-user-config',
    '-nographic',
    '-no-reboot',
    '-m',
    `${spec.memoryMiB}M`,
    '-smp',
    String(spec.vcpus),
    '-kernel',
    spec.kernelPath,
    '-initrd',
    spec.initrdPath,
    '-append',
    kernelCommandLine(accel, input.tscKhz, [
      ...(spec.extraKernelArgs ?? []),
      ...(spec.net && spec.net !== 'none' ? [`${NET_KERNEL_PARAM}=${spec.net}`] : []),
    ]),
    '-chardev',
    `file,id=console,path=${dir.file(QEMU_FILES.console)}`,
    '-serial',
    'chardev:console',
    '-device',
    'virtio-rng-device',
    '-drive',
    `id=root,file=${qemuOptionValue(input.overlayPath ?? dir.file(QEMU_FILES.overlay))},format=qcow2,if=none,discard=unmap`,
    '-device',
    'virtio-blk-device,drive=root',
    // Port 0 is reserved for a console; each port costs two virtqueues and nothing until it is used.
    '-device',
    `virtio-serial-device,max_ports=${STREAM_NAMES.length + SSH_POOL_PORT_NAMES.length + 1}`,
  ];
  const port = (id: string, socket: string, name: string): void => {
    args.push('-chardev', `socket,id=${id},path=${dir.file(socket)},server=on,wait=off`);
    args.push('-device', `virtserialport,chardev=${id},name=${name}`);
  };
  for (const stream of STREAM_NAMES) port(stream, QEMU_FILES.socket(stream), VIRTIO_PORT_NAMES[stream]);
  SSH_POOL_PORT_NAMES.forEach((name, i) => port(`ssh-pool-${i + 1}`, QEMU_FILES.sshPoolSocket(i), name));
  if (spec.net && spec.net !== 'none') {
    if (input.natTap !== undefined)
      args.push('-netdev', `tap,id=net0,ifname=${qemuOptionValue(input.natTap)},script=no,downscript=no`);
    else if (input.natSocketPath !== undefined)
      args.push(
        '-netdev',
        `stream,id=net0,server=off,addr.type=unix,addr.path=${qemuOptionValue(input.natSocketPath)}`,
      );
    else throw new TypeError(`VM ${spec.name} has network ${spec.net} but no NAT socket or TAP`);
    args.push('-device', `virtio-net-device,netdev=net0,mac=${GUEST_NET.mac}`);
  }
  if (input.sharedFolders)
    args.push(...ninePArgs(spec.mounts ?? [], input.sharedFolders.slots, input.sharedFolders.idleDir));
  args.push('-qmp', `unix:${dir.file(QEMU_FILES.qmp)},server=on,wait=off`);
  // QEMU 7.2 has no `-global` for this capability, which must be on before the stream is read: the
  // driver sets it over QMP, then starts the load (`migrate-incoming`, restoreUri()).
  if (input.restore) args.push('-incoming', 'defer');
  if (input.restore && input.startPaused) args.push('-S');
  return args;
}
