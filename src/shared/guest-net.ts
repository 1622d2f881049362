/**
 * The guest network (`--net`, config `net.mode` / `net.host_access`): the addresses both sides agree on.
 * The host hands them to its NAT (passt: DHCP-free, the guest configures itself statically in init.sh),
 * the image builder writes them into init.sh, and the kernel command line names the profile, so a warm
 * snapshot's clone inherits the same guest configuration as its template (the snapshot key covers it).
 */

/** `none`: no NIC at all. `nat`: a NIC behind a user-mode NAT. `nat-host`: also the host's loopback. */
export type NetProfile = 'none' | 'nat' | 'nat-host';
export const NET_PROFILES: readonly NetProfile[] = ['none', 'nat', 'nat-host'];

export const netProfile = (mode: 'none' | 'nat', hostAccess: boolean): NetProfile =>
  mode === 'none' ? 'none' : hostAccess ? 'nat-host' : 'nat';

/** The kernel command-line word `ghostly.net=<profile>` tells the guest's init which network it has. */
export const NET_KERNEL_PARAM = 'ghostly.net';

export const GUEST_NET = {
  iface: 'eth0',
  /** Fixed, so a QEMU restore (which keeps the device state) and the NAT agree without asking the guest. */
  mac: '52:54:00:12:34:56',
  /** The NAT's own MAC (passt would take the host interface's): fixed, so a restored guest's ARP entry stays right. */
  natMac: '52:54:00:12:34:02',
  address: '10.0.2.15',
  prefixLength: 24,
  /** The NAT's side of the link; with host access on it is the host's loopback (passt maps the gateway). */
  gateway: '10.0.2.2',
  /** passt answers DNS sent here by forwarding it to the host's resolver. */
  dns: '10.0.2.3',
  /** The name the guest reaches the host by (as host.docker.internal / host.lima.internal). */
  hostName: 'host.virtualghost.internal',
} as const;
