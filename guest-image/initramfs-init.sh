#!/bin/busybox sh
# PID 1 of the initramfs: load the modules the root disk and guest channels need (listed, in dependency
# order, by the image builder from the kernel's own modules.dep and softdeps), mount the root disk and
# hand over to the real root. Any failure ends the VM (reboot = VMM exit) with a message on the console.
/bin/busybox mkdir -p /bin /proc /sys /dev /newroot
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
fail() { echo "ghostly-initramfs: $*" >/dev/console; sleep 1; reboot -f; }
while read -r module; do
  # A module whose hardware is absent (crc32c-intel under TCG) refuses to load: that is fine.
  insmod "/lib/modules/$module" 2>/dev/null
done < /modules.load
i=0
while [ ! -b /dev/vda ]; do
  i=$((i + 1))
  [ "$i" -gt 1000 ] && fail "no root disk /dev/vda after 10 s"
  usleep 10000
done
mount -t ext4 -o rw,noatime /dev/vda /newroot || fail "cannot mount /dev/vda"
mount --move /dev /newroot/dev
umount /proc /sys
# An image converted from OCI brings its own static tini and busybox under /opt/ghostly/bin (its /bin/sh
# may be missing or another libc's); the Debian image uses its own.
if [ -x /newroot/opt/ghostly/bin/tini ]; then
  exec switch_root /newroot /opt/ghostly/bin/tini -s -g -- /opt/ghostly/bin/busybox sh /opt/ghostly/init.sh
fi
exec switch_root /newroot /usr/bin/tini -s -g -- /opt/ghostly/init.sh
