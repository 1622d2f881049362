/** The QEMU microvm command line (pure): the TCG facts from DESIGN.md §3 and the per-VM socket layout. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kernelCommandLine, qemuArgs, QEMU_FILES, restoreUri } from '../../../src/host/vm/qemu/args.js';
import type { Accel, InstanceDir, VmSpec } from '../../../src/host/vm/driver.js';
import { SSH_POOL_PORT_NAMES, STREAM_NAMES, VIRTIO_PORT_NAMES } from '../../../src/shared/ports.js';

const dir: InstanceDir = { path: '/run/vg/vms/t1', file: (f) => join('/run/vg/vms/t1', f) };
const spec: VmSpec = {
  name: 't1',
  vcpus: 3,
  memoryMiB: 768,
  kernelPath: '/img/vmlinux',
  initrdPath: '/img/initrd.img',
  rootfsPath: '/img/rootfs.ext4',
};
const args = (accel: Accel, tscKhz?: number, s: VmSpec = spec): string[] =>
  qemuArgs({ spec: s, dir, accel, ...(tscKhz !== undefined ? { tscKhz } : {}) });

/** The value following each occurrence of `flag`. */
const valuesOf = (a: string[], flag: string): string[] =>
  a.flatMap((x, i) => (x === flag && i + 1 < a.length ? [a[i + 1] as string] : []));
const append = (a: string[]): string => {
  const v = valuesOf(a, '-append');
  expect(v).toHaveLength(1);
  return v[0] as string;
};

describe('qemuArgs', () => {
  it('adds the SSH pool: seven more ports, each with its own socket, within max_ports', () => {
    const a = args('tcg', 1000);
    expect(SSH_POOL_PORT_NAMES).toEqual([
      'org.virtualghost.ssh.1',
      'org.virtualghost.ssh.2',
      'org.virtualghost.ssh.3',
      'org.virtualghost.ssh.4',
      'org.virtualghost.ssh.5',
      'org.virtualghost.ssh.6',
      'org.virtualghost.ssh.7',
    ]);
    const ports = valuesOf(a, '-device').filter((d) => d.startsWith('virtserialport,'));
    expect(ports).toHaveLength(STREAM_NAMES.length + SSH_POOL_PORT_NAMES.length);
    SSH_POOL_PORT_NAMES.forEach((name, i) => {
      const port = ports.find((p) => p.endsWith(`,name=${name}`));
      const id = /chardev=([^,]+)/.exec(port ?? '')?.[1];
      const chardev = valuesOf(a, '-chardev').find((c) => c.startsWith(`socket,id=${id},`));
      expect(chardev, name).toContain(`path=${dir.file(QEMU_FILES.sshPoolSocket(i))},server=on,wait=off`);
    });
    const maxPorts = Number(
      /max_ports=(\d+)/.exec(valuesOf(a, '-device').find((d) => d.startsWith('virtio-serial-device')) ?? '')?.[1],
    );
    // Port 0 is the (unused) console port.
    expect(maxPorts).toBeGreaterThanOrEqual(ports.length + 1);
  });

  it('passes tsc_early_khz under TCG only, with the given frequency', () => {
    expect(append(args('tcg', 2_894_561)).split(' ')).toContain('tsc_early_khz=2894561');
    expect(append(args('kvm', 2_894_561))).not.toMatch(/tsc_early_khz/);
    // No frequency known: no made-up value.
    expect(append(args('tcg'))).not.toMatch(/tsc_early_khz/);
    expect(kernelCommandLine('tcg', 1234, ['extra=1']).split(' ').slice(-2)).toEqual(['norandmaps', 'extra=1']);
  });

  it('turns address-space randomization off under TCG only (it makes every process re-translate its code)', () => {
    expect(append(args('tcg')).split(' ')).toContain('norandmaps');
    expect(append(args('kvm')).split(' ')).not.toContain('norandmaps');
  });

  it('uses TCG with tb-size and never -enable-kvm under tcg; KVM + host CPU under kvm', () => {
    const tcg = args('tcg', 1000);
    expect(tcg).not.toContain('-enable-kvm');
    expect(valuesOf(tcg, '-accel')).toEqual(['tcg,tb-size=64']);
    // ARAT, or the guest never leaves its periodic tick (no NO_HZ idle on microvm without it).
    expect(valuesOf(tcg, '-cpu')).toEqual(['qemu64,+arat']);
    expect(tcg).not.toContain('host');
    const kvm = args('kvm');
    expect(valuesOf(kvm, '-accel')).toEqual(['kvm']);
    expect(valuesOf(kvm, '-cpu')).toEqual(['host']);
  });

  it("boots a microvm with ACPI, no defaults, no reboot, the spec's memory, vcpus, kernel and initrd", () => {
    const a = args('tcg', 1000);
    expect(valuesOf(a, '-M')).toEqual(['microvm,acpi=on']);
    for (const f of ['-nodefaults', '-no-user-config', '-nographic', '-no-reboot']) expect(a).toContain(f);
    expect(valuesOf(a, '-m')).toEqual(['768M']);
    expect(valuesOf(a, '-smp')).toEqual(['3']);
    expect(valuesOf(a, '-kernel')).toEqual([spec.kernelPath]);
    expect(valuesOf(a, '-initrd')).toEqual([spec.initrdPath]);
    expect(valuesOf(a, '-name')).toEqual(['virtualghost-t1']);
    expect(append(args('tcg', 1000, { ...spec, extraKernelArgs: ['foo=bar'] })).split(' ')).toContain('foo=bar');
  });

  it('adds virtio-rng and puts the root disk on a per-VM overlay, never the base image', () => {
    const a = args('tcg', 1000);
    const devices = valuesOf(a, '-device');
    expect(devices).toContain('virtio-rng-device');
    expect(devices).toContain('virtio-blk-device,drive=root');
    const drives = valuesOf(a, '-drive');
    expect(drives).toHaveLength(1);
    expect(drives[0]).toContain(`file=${dir.file(QEMU_FILES.overlay)}`);
    expect(a.join(' ')).not.toContain(spec.rootfsPath);
  });

  it('keeps every socket and log inside the VM dir, one virtserialport per stream', () => {
    const a = args('tcg', 1000);
    const chardevs = valuesOf(a, '-chardev');
    for (const stream of STREAM_NAMES) {
      const cd = chardevs.find((c) => c.startsWith(`socket,id=${stream},`));
      expect(cd, `chardev for ${stream}`).toBeDefined();
      expect(cd).toContain(`path=${dir.path}/vport-${stream}.sock`);
      expect(cd).toContain('server=on');
      expect(cd).toContain('wait=off');
      expect(valuesOf(a, '-device')).toContain(`virtserialport,chardev=${stream},name=${VIRTIO_PORT_NAMES[stream]}`);
    }
    expect(valuesOf(a, '-qmp')).toEqual([`unix:${dir.path}/qmp.sock,server=on,wait=off`]);
    // Every path QEMU creates lives under the VM dir.
    const created = [
      ...chardevs.map((c) => /path=([^,]+)/.exec(c)?.[1]),
      ...valuesOf(a, '-qmp').map((q) => /^unix:([^,]+)/.exec(q)?.[1]),
    ];
    expect(created.length).toBe(STREAM_NAMES.length + SSH_POOL_PORT_NAMES.length + 2);
    expect(new Set(created).size).toBe(created.length);
    // The named-VM relay's ssh.sock is not QEMU's to create.
    expect(created).not.toContain(`${dir.path}/ssh.sock`);
    for (const p of created) expect(p?.startsWith(`${dir.path}/`), String(p)).toBe(true);
    expect(a).not.toContain('-incoming');
    expect(a).not.toContain('memory-backend=ram');
  });

  it('a template keeps its RAM in a shared file; a clone maps it private and loads only device state', () => {
    const tpl = qemuArgs({ spec, dir, accel: 'tcg', templateMemoryPath: '/c/snap,1/memory.bin' });
    expect(valuesOf(tpl, '-M')).toEqual(['microvm,acpi=on,memory-backend=ram']);
    expect(valuesOf(tpl, '-object')).toEqual([
      `memory-backend-file,id=ram,size=${spec.memoryMiB}M,mem-path=/c/snap,,1/memory.bin,share=on`,
    ]);
    expect(tpl).not.toContain('-incoming');
    const clone = qemuArgs({
      spec,
      dir,
      accel: 'tcg',
      restore: { statePath: "/c/it's/state.bin", memoryPath: '/c/m.bin' },
    });
    expect(valuesOf(clone, '-object')).toEqual([
      `memory-backend-file,id=ram,size=${spec.memoryMiB}M,mem-path=/c/m.bin,share=off`,
    ]);
    expect(valuesOf(clone, '-incoming')).toEqual(['defer']);
    expect(restoreUri("/c/it's/state.bin")).toBe(`exec:cat '/c/it'\\''s/state.bin'`);
  });
});
