/**
 * Where the two guest streams live on each transport. Both VMMs carry the same two byte streams:
 * `ssh` (one SSH connection, every shell/exec/SFTP is a channel on it) and `control` (the sideband).
 */
export type StreamName = 'ssh' | 'control';
export const STREAM_NAMES: readonly StreamName[] = ['ssh', 'control'];

/** virtio-serial port names (QEMU `virtserialport,name=`); the guest finds them in /sys/class/virtio-ports. */
export const VIRTIO_PORT_NAMES: Readonly<Record<StreamName, string>> = {
  ssh: 'org.virtualghost.ssh',
  control: 'org.virtualghost.control',
};

/**
 * Extra SSH streams for clients other than the session (OpenSSH via `proxy`, `exec NAME`, `cp`): a
 * virtio-serial port admits one host connection at a time, so each concurrent client needs a port of its
 * own. Each is bridged in the guest to the same agent socket as `ssh`, with the same hello framing.
 * (vsock needs no pool: every CONNECT to VSOCK_PORTS.ssh is already an independent stream.)
 */
export const SSH_POOL_SIZE = 7;
export const SSH_POOL_PORT_NAMES: readonly string[] = Array.from(
  { length: SSH_POOL_SIZE },
  (_, i) => `${VIRTIO_PORT_NAMES.ssh}.${i + 1}`,
);

/** AF_VSOCK ports the guest listens on (Firecracker hybrid vsock: `CONNECT <port>`). */
export const VSOCK_PORTS: Readonly<Record<StreamName, number>> = {
  ssh: 10022,
  control: 10023,
};

/** Unix sockets inside the guest where ghostly-agent itself listens; bridges connect the transports to them. */
export const GUEST_SOCKET_DIR = '/run/ghostly';
export const GUEST_SOCKETS: Readonly<Record<StreamName, string>> = {
  ssh: `${GUEST_SOCKET_DIR}/ssh.sock`,
  control: `${GUEST_SOCKET_DIR}/control.sock`,
};

/**
 * virtio-serial connection framing (see guest-image/ghostly-helper.c, which holds the same bytes): the
 * host starts every connection with HOST_HELLO, the guest bridge answers GUEST_HELLO once it has opened
 * a fresh agent connection. Bytes before either belong to an earlier connection and are dropped, so a
 * quick reconnect can never see or send stale data. (vsock needs none of this: each CONNECT is its own
 * stream.)
 */
export const HOST_HELLO = '\x01ghostly-host-hello\x02\n';
export const GUEST_HELLO = '\x01ghostly-guest-hello\x02\n';
