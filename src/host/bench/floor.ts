/**
 * The floor for boot figures: the same QEMU command line, kernel and initramfs, but the kernel's init is
 * busybox running `reboot -f` (kernel args after `--` become init's argv), so QEMU exits as soon as
 * userspace starts. Spawn → exit is the least any VM of ours can cost.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CachedImage } from '../image/cache.js';
import { hostTscKhz } from '../vm/host-tsc.js';
import { kernelCommandLine } from '../vm/qemu/args.js';

export async function rawBootToInitMs(image: CachedImage, memoryMiB: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'vg-floor-'));
  try {
    const append = `${kernelCommandLine('tcg', hostTscKhz())} rdinit=/bin/busybox -- reboot -f`;
    const args = [
      '-M',
      'microvm,acpi=on',
      '-accel',
      'tcg,tb-size=64',
      '-nodefaults',
      '-no-user-config',
      '-nographic',
      '-no-reboot',
      '-m',
      `${memoryMiB}M`,
      '-kernel',
      image.kernel,
      '-initrd',
      image.initrd,
      '-append',
      append,
      '-serial',
      `file:${join(dir, 'console.log')}`,
      '-device',
      'virtio-rng-device',
    ];
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      const p = spawn('qemu-system-x86_64', args, { stdio: 'ignore' });
      const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
      p.on('error', reject);
      p.on('exit', (code) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else reject(new Error(`floor boot: qemu exited ${code}`));
      });
    });
    return performance.now() - t0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
