/** The guest network's command lines (pure): what QEMU and passt are told for each profile. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { passtArgs } from '../../../src/host/net/passt.js';
import { qemuArgs } from '../../../src/host/vm/qemu/args.js';
import type { InstanceDir, VmSpec } from '../../../src/host/vm/driver.js';
import { GUEST_NET } from '../../../src/shared/guest-net.js';

const dir: InstanceDir = { path: '/run/vg/vms/n1', file: (f) => join('/run/vg/vms/n1', f) };
const spec: VmSpec = {
  name: 'n1',
  vcpus: 1,
  memoryMiB: 512,
  kernelPath: '/img/vmlinux',
  initrdPath: '/img/initrd.img',
  rootfsPath: '/img/rootfs.ext4',
};
const valuesOf = (a: string[], flag: string): string[] =>
  a.flatMap((x, i) => (x === flag && i + 1 < a.length ? [a[i + 1] as string] : []));

describe('guest network arguments', () => {
  it('`none` (the default): no NIC, no netdev, nothing on the kernel command line', () => {
    for (const s of [spec, { ...spec, net: 'none' as const }]) {
      const a = qemuArgs({ spec: s, dir, accel: 'tcg' });
      expect(a).not.toContain('-netdev');
      expect(valuesOf(a, '-device').some((d) => d.startsWith('virtio-net'))).toBe(false);
      expect(valuesOf(a, '-append')[0]).not.toMatch(/ghostly\.net/);
    }
  });

  it("`nat`: a virtio-net NIC on passt's socket in the VM dir, and the profile on the kernel command line", () => {
    const a = qemuArgs({ spec: { ...spec, net: 'nat' }, dir, accel: 'tcg', natSocketPath: dir.file('passt.sock') });
    expect(valuesOf(a, '-netdev')).toEqual([
      'stream,id=net0,server=off,addr.type=unix,addr.path=/run/vg/vms/n1/passt.sock',
    ]);
    expect(valuesOf(a, '-device')).toContain(`virtio-net-device,netdev=net0,mac=${GUEST_NET.mac}`);
    expect(valuesOf(a, '-append')[0]?.split(' ')).toContain('ghostly.net=nat');
    expect(() => qemuArgs({ spec: { ...spec, net: 'nat' }, dir, accel: 'tcg' })).toThrow(/no NAT socket/);
  });

  it('passt: host loopback unmapped unless host access is on; no inbound ports; stays our child as our own user', () => {
    const base = { socketPath: '/d/passt.sock', logPath: '/d/passt.log', uid: 1000, gid: 1000 };
    const nat = passtArgs({ ...base, profile: 'nat' });
    const host = passtArgs({ ...base, profile: 'nat-host' });
    expect(nat).toContain('--no-map-gw');
    expect(host).not.toContain('--no-map-gw');
    for (const a of [nat, host]) {
      expect(valuesOf(a, '--tcp-ports')).toEqual(['none']);
      expect(valuesOf(a, '--udp-ports')).toEqual(['none']);
      expect(a).toEqual(expect.arrayContaining(['--foreground', '--one-off']));
      expect(valuesOf(a, '--runas')).toEqual(['1000:1000']);
      expect(valuesOf(a, '--socket')).toEqual(['/d/passt.sock']);
      expect(valuesOf(a, '--address')).toEqual([GUEST_NET.address]);
      expect(valuesOf(a, '--gateway')).toEqual([GUEST_NET.gateway]);
      expect(valuesOf(a, '--dns-forward')).toEqual([GUEST_NET.dns]);
    }
  });
});
