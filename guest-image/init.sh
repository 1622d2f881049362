#!/bin/sh
# The guest's init (under tini, which reaps orphans and forwards signals): mount the API filesystems,
# then supervise ghostly-agent and the transports that reach it. If the agent dies it is restarted
# (GHOSTLY_STARTS tells the host, through the control stream, that it came back).
# In an image converted from OCI, this runs under the injected static busybox (@GHOSTLY_BIN@ first on
# PATH) and the agent's Node through the injected loader: nothing here needs the image's own files.
export PATH=@GHOSTLY_BIN@:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mkdir -p /proc /sys /dev /run /tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
mount -t tmpfs -o mode=755,nosuid,nodev tmpfs /run
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
echo ghost > /proc/sys/kernel/hostname
ip link set lo up 2>/dev/null
mkdir -m 700 -p @SOCKET_DIR@

# The guest network (`--net`), configured before the agent starts so the first prompt has it. The host's
# NAT (passt) has no DHCP client to talk to here: the addresses are fixed (src/shared/guest-net.ts), and
# the kernel command line says which profile the host set up. Without host access the NAT does not map
# the gateway to the host's loopback (that is enforced on the host); the unreachable route only makes
# host.virtualghost.internal fail at once instead of a connect that waits for a SYN nobody answers.
[ -f /etc/hosts ] && sed -i '/@NET_HOST_NAME@/d' /etc/hosts # a kept disk boots again, maybe with another profile
net=$(sed -n 's/.*@NET_KERNEL_PARAM@=\([a-z-]*\).*/\1/p' /proc/cmdline)
if [ "$net" = nat ] || [ "$net" = nat-host ]; then
  ip link set @NET_IFACE@ up
  ip addr add @NET_ADDRESS@ dev @NET_IFACE@
  ip route add default via @NET_GATEWAY@ dev @NET_IFACE@
  echo "nameserver @NET_DNS@" > /etc/resolv.conf
  echo "@NET_GATEWAY@	@NET_HOST_NAME@" >> /etc/hosts
  [ "$net" = nat ] && ip route add unreachable @NET_GATEWAY@/32
fi

log() { echo "ghostly-init: $*" > /dev/console; }

# A VM restored from a snapshot runs every code path afresh under TCG (translation is most of its CPU
# time), so the agent keeps what its template compiled: no bytecode flushing (V8 would drop the
# bytecode of functions idle for a while, and a clone would parse and compile them again), and `gc`
# so the template's agent collects garbage just before the snapshot (a clone then starts with an empty
# young generation instead of a scavenge in its first handshake).
NODE_FLAGS="--no-flush-bytecode --expose-gc"
GHOSTLY_NODE=node
[ -x @GHOSTLY_LOADER@ ] && GHOSTLY_NODE="@GHOSTLY_LOADER@ --library-path @GHOSTLY_LIB@ @GHOSTLY_BIN@/node"
(
  n=0
  while :; do
    n=$((n + 1))
    GHOSTLY_STARTS=$n $GHOSTLY_NODE $NODE_FLAGS /opt/ghostly/ghostly-agent.cjs 2>/dev/console
    log "ghostly-agent exited with status $?; restarting"
    sleep 0.2
  done
) &

bridge() {
  while :; do
    /opt/ghostly/ghostly-helper bridge "$@" 2>/dev/console
    sleep 0.5
  done
}
bridge @SSH_PORT_NAME@ @SSH_SOCKET@ &
bridge @CONTROL_PORT_NAME@ @CONTROL_SOCKET@ --control &
# The SSH pool: one more port per concurrent host client (proxy, exec NAME, cp), each to the same agent.
for port in @SSH_POOL_PORT_NAMES@; do
  bridge "$port" @SSH_SOCKET@ &
done

# Firecracker reaches the guest over AF_VSOCK (and tests use vsock_loopback): same agent sockets.
# (An image converted from OCI has no socat: it runs on QEMU only.)
vsock() {
  command -v socat >/dev/null || return 0
  while :; do
    socat -b 262144 "VSOCK-LISTEN:$1,fork,reuseaddr" "UNIX-CONNECT:$2" 2>/dev/console
    sleep 0.5
  done
}
vsock @SSH_VSOCK_PORT@ @SSH_SOCKET@ &
vsock @CONTROL_VSOCK_PORT@ @CONTROL_SOCKET@ &

wait
