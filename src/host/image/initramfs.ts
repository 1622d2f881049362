/** The initramfs: busybox, the modules for disk + channels, and an init that mounts the root disk. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeCpio, type CpioEntry } from './cpio.js';
import type { UnpackedKernel } from './kernel.js';

export function buildInitramfs(opts: {
  kernel: UnpackedKernel;
  modules: readonly string[];
  busybox: string;
  init: string;
  out: string;
}): number {
  const modDir = join(opts.kernel.root, 'lib', 'modules', opts.kernel.release);
  const dirs = new Set<string>(['bin', 'dev', 'proc', 'sys', 'newroot', 'lib', 'lib/modules']);
  for (const m of opts.modules) {
    const parts = m.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(`lib/modules/${parts.slice(0, i).join('/')}`);
  }
  const entries: CpioEntry[] = [...dirs].sort().map((path) => ({ kind: 'dir' as const, path }));
  entries.push({ kind: 'chardev', path: 'dev/console', major: 5, minor: 1 });
  entries.push({ kind: 'file', path: 'bin/busybox', data: readFileSync(opts.busybox), mode: 0o755 });
  entries.push({ kind: 'file', path: 'init', data: readFileSync(opts.init), mode: 0o755 });
  entries.push({ kind: 'file', path: 'modules.load', data: Buffer.from(opts.modules.map((m) => `${m}\n`).join('')) });
  for (const m of opts.modules)
    entries.push({ kind: 'file', path: `lib/modules/${m}`, data: readFileSync(join(modDir, m)) });
  const archive = writeCpio(entries);
  writeFileSync(opts.out, archive);
  return archive.length;
}
