/**
 * The API bodies for one boot, as pure data (typed by the spec), so the sequence can be read and tested in
 * one place. Order follows docs/getting-started.md: logger and metrics first (so errors of later requests
 * are logged), then boot-source, drives, machine-config, vsock, the network interface (`--net`), and finally
 * InstanceStart.
 */
import { VSOCK_PORTS } from '../../../shared/ports.js';
import { GUEST_NET, NET_KERNEL_PARAM } from '../../../shared/guest-net.js';
import { NETNS_DEVICES } from '../../net/netns.js';
import type { VmSpec } from '../driver.js';
import type { components } from './api-types.generated.js';
import type { FcLayout } from './layout.js';

type Schemas = components['schemas'];

/**
 * Our kernel command line. Firecracker's default adds `nomodule` (our initramfs loads the virtio modules)
 * and `8250.nr_uarts=0` (we want ttyS0 as the console), so we always pass our own:
 * - console=ttyS0: the serial console goes to Firecracker's stdout → console.log (consoleTail, diagnostics);
 * - reboot=k: a guest `reboot` resets through the i8042 keyboard controller, which makes Firecracker exit —
 *   this is our graceful shutdown path (a guest `poweroff` would leave Firecracker running);
 * - panic=1: a panicking guest reboots, i.e. Firecracker exits instead of hanging;
 * - pci=off: devices are virtio-mmio (described by ACPI, Firecracker >= 1.8); skip PCI probing;
 * - i8042.*: keep the i8042 (SendCtrlAltDel needs it) but skip its slow probing (docs/api_requests/actions.md).
 * Firecracker itself appends `root=/dev/vda rw` for the root drive.
 */
export const FC_BOOT_ARGS: readonly string[] = [
  'console=ttyS0',
  'reboot=k',
  'panic=1',
  'pci=off',
  'i8042.noaux',
  'i8042.nomux',
  'i8042.nopnp',
  'i8042.dumbkbd',
];

/** Guest CID of our single vsock device (CIDs 0–2 are reserved; the spec requires >= 3). */
export const FC_GUEST_CID = 3;
export const ROOT_DRIVE_ID = 'rootfs';

/** The guest's one NIC (`--net`): its id in the API. */
export const NET_IFACE_ID = GUEST_NET.iface;

export function bootArgs(spec: Pick<VmSpec, 'extraKernelArgs' | 'net'>): string {
  const extra = [
    ...(spec.extraKernelArgs ?? []),
    // Tells the guest's init which network it has (shared/guest-net.ts), as on QEMU.
    ...(spec.net && spec.net !== 'none' ? [`${NET_KERNEL_PARAM}=${spec.net}`] : []),
  ];
  for (const word of extra) {
    if (word === '' || /\s/.test(word))
      throw new RangeError(`extraKernelArgs: ${JSON.stringify(word)} is not a single kernel command-line word`);
  }
  return [...FC_BOOT_ARGS, ...extra].join(' ');
}

export interface BootRequests {
  readonly logger: Schemas['Logger'];
  readonly metrics: Schemas['Metrics'];
  readonly bootSource: Schemas['BootSource'];
  readonly rootDrive: Schemas['Drive'];
  readonly machineConfig: Schemas['MachineConfiguration'];
  readonly vsock: Schemas['Vsock'];
  /**
   * With `--net`: the NIC on the TAP in the VM's network namespace (net/netns.ts), which the VMM runs in;
   * the MAC is fixed, so a restored clone and its fresh NAT agree without asking the guest.
   */
  readonly networkInterface?: Schemas['NetworkInterface'];
  readonly start: Schemas['InstanceActionInfo'];
}

export function loggingRequests(layout: FcLayout): Pick<BootRequests, 'logger' | 'metrics'> {
  return {
    logger: { log_path: layout.vm('log'), level: 'Info', show_level: true, show_log_origin: false },
    metrics: { metrics_path: layout.vm('metrics') },
  };
}

export function bootRequests(spec: VmSpec, layout: FcLayout, jailed: boolean): BootRequests {
  if (!Number.isInteger(spec.vcpus) || spec.vcpus < 1 || spec.vcpus > 32)
    throw new RangeError(`vcpus must be an integer in 1..32 for Firecracker, got ${spec.vcpus}`);
  if (!Number.isInteger(spec.memoryMiB) || spec.memoryMiB < 1)
    throw new RangeError(`memoryMiB must be a positive integer, got ${spec.memoryMiB}`);
  return {
    ...loggingRequests(layout),
    bootSource: {
      kernel_image_path: jailed ? layout.vm('kernel') : spec.kernelPath,
      initrd_path: jailed ? layout.vm('initrd') : spec.initrdPath,
      boot_args: bootArgs(spec),
    },
    // The per-VM copy of the base image (see disk.ts): writable, and the only disk the guest sees.
    rootDrive: {
      drive_id: ROOT_DRIVE_ID,
      path_on_host: layout.vm('rootfs'),
      is_root_device: true,
      is_read_only: false,
    },
    machineConfig: { vcpu_count: spec.vcpus, mem_size_mib: spec.memoryMiB, smt: false },
    vsock: { guest_cid: FC_GUEST_CID, uds_path: layout.vm('vsockSocket') },
    ...(spec.net && spec.net !== 'none'
      ? { networkInterface: { iface_id: NET_IFACE_ID, guest_mac: GUEST_NET.mac, host_dev_name: NETNS_DEVICES.tap } }
      : {}),
    start: { action_type: 'InstanceStart' },
  };
}

/** Guest vsock port of each stream, re-exported for readers of this file. */
export const FC_VSOCK_PORTS = VSOCK_PORTS;
