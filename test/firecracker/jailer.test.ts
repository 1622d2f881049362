/** Jailer command line and chroot-relative paths (pure functions; the jailer itself needs root + KVM). */
import { describe, expect, it } from 'vitest';
import { bootRequests } from '../../src/host/vm/firecracker/boot-requests.js';
import { FirecrackerJailerConfigError } from '../../src/host/vm/firecracker/errors.js';
import { jailerArgv, jailerId, jailPaths, validateJailer } from '../../src/host/vm/firecracker/jailer.js';
import { chrootLayout } from '../../src/host/vm/firecracker/layout.js';
import { spec } from './helpers.js';

const jailer = { bin: '/usr/bin/jailer', uid: 123, gid: 456, chrootBase: '/srv/jailer' };

describe('jailer support', () => {
  it('builds the jailer command line with Firecracker flags after --', () => {
    expect(jailerArgv(jailer, '/opt/fc/firecracker', 'vm-1', ['--api-sock', '/fc.sock'])).toEqual([
      '/usr/bin/jailer',
      '--id',
      'vm-1',
      '--exec-file',
      '/opt/fc/firecracker',
      '--uid',
      '123',
      '--gid',
      '456',
      '--chroot-base-dir',
      '/srv/jailer',
      '--',
      '--api-sock',
      '/fc.sock',
    ]);
  });

  it('puts the chroot where the jailer builds it', () => {
    expect(jailPaths(jailer, '/opt/fc/firecracker-v1.16.1', 'vm-1')).toEqual({
      jailDir: '/srv/jailer/firecracker-v1.16.1/vm-1',
      root: '/srv/jailer/firecracker-v1.16.1/vm-1/root',
    });
  });

  it('makes ids the jailer accepts', () => {
    const id = jailerId('my VM/with:odd*chars'.repeat(5));
    expect(id).toMatch(/^[A-Za-z0-9-]{1,64}$/);
    expect(jailerId('a')).not.toBe(jailerId('a'));
  });

  it('rejects options the jailer would refuse', () => {
    expect(() => validateJailer({ ...jailer, uid: -1 }, '/opt/firecracker')).toThrow(FirecrackerJailerConfigError);
    expect(() => validateJailer(jailer, '/opt/fc/vmm')).toThrow(/contains "firecracker"/);
  });

  it('rewrites every path in the boot requests relative to the chroot, and they stay valid per the spec', () => {
    const layout = chrootLayout('/run/vg/vm1', '/srv/jailer/firecracker/vm-1/root');
    const r = bootRequests(
      {
        name: 'x',
        vcpus: 1,
        memoryMiB: 128,
        kernelPath: '/cache/vmlinux',
        initrdPath: '/cache/initrd.img',
        rootfsPath: '/cache/base.ext4',
      },
      layout,
      true,
    );
    expect(r.bootSource).toMatchObject({ kernel_image_path: '/vmlinux', initrd_path: '/initrd.img' });
    expect(r.rootDrive.path_on_host).toBe('/rootfs.ext4');
    expect(r.vsock.uds_path).toBe('/vsock.sock');
    expect(r.logger.log_path).toBe('/firecracker.log');
    // Host side: sockets and disk inside the chroot, our own console log in the instance dir.
    expect(layout.host('vsockSocket')).toBe('/srv/jailer/firecracker/vm-1/root/vsock.sock');
    expect(layout.host('rootfs')).toBe('/srv/jailer/firecracker/vm-1/root/rootfs.ext4');
    expect(layout.host('console')).toBe('/run/vg/vm1/console.log');
    const checks: [string, string, unknown][] = [
      ['PUT', '/boot-source', r.bootSource],
      ['PUT', '/drives/rootfs', r.rootDrive],
      ['PUT', '/machine-config', r.machineConfig],
      ['PUT', '/vsock', r.vsock],
      ['PUT', '/logger', r.logger],
      ['PUT', '/metrics', r.metrics],
      ['PUT', '/actions', r.start],
    ];
    for (const [m, p, body] of checks) expect(spec.validateBody(m, p, body).errors).toEqual([]);
  });

  it('rejects kernel arguments that are not single words', () => {
    const layout = chrootLayout('/a', '/b');
    expect(() =>
      bootRequests(
        {
          name: 'x',
          vcpus: 1,
          memoryMiB: 128,
          kernelPath: 'k',
          initrdPath: 'i',
          rootfsPath: 'r',
          extraKernelArgs: ['a b'],
        },
        layout,
        true,
      ),
    ).toThrow(RangeError);
  });
});
