/**
 * The guest kernel: Debian's package unpacked (not installed), the uncompressed ELF vmlinux extracted
 * from its bzImage (both VMMs boot it with PVH), and the modules the initramfs needs, in load order.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ImageBuildError } from './errors.js';
import { runTool } from './run-tool.js';

const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

export interface UnpackedKernel {
  root: string;
  release: string; // e.g. 6.1.0-56-amd64
  vmlinuz: string;
}

export async function unpackKernel(deb: string, into: string): Promise<UnpackedKernel> {
  await runTool('dpkg-deb', ['-x', deb, into], { pkg: 'dpkg' });
  const vmlinuz = readdirSync(join(into, 'boot')).find((f) => f.startsWith('vmlinuz-'));
  if (vmlinuz === undefined) throw new ImageBuildError(`${deb} holds no boot/vmlinuz-*: not a kernel package?`);
  return { root: into, release: vmlinuz.slice('vmlinuz-'.length), vmlinuz: join(into, 'boot', vmlinuz) };
}

/** Finds the xz stream inside the bzImage and decompresses it: the result must be an ELF file. */
export async function extractVmlinux(vmlinuz: string, out: string): Promise<void> {
  const image = readFileSync(vmlinuz);
  const at = image.indexOf(XZ_MAGIC);
  if (at < 0)
    throw new ImageBuildError(`${vmlinuz} holds no xz stream; this builder expects Debian's xz-compressed kernels`);
  // --single-stream: the bzImage continues after the compressed kernel; ignore what follows it.
  const xz = spawn('xz', ['-dc', '--single-stream'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  xz.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve, reject) => {
    xz.on('error', reject);
    xz.on('close', resolve);
  });
  xz.stdin.on('error', () => {}); // xz stops reading after the stream ends
  xz.stdin.end(image.subarray(at));
  await pipeline(xz.stdout, createWriteStream(out));
  const code = await exited;
  if (code !== 0) throw new ImageBuildError(`xz could not decompress the kernel in ${vmlinuz}: ${stderr.trim()}`);
  const head = readFileSync(out).subarray(0, 4);
  if (!head.equals(ELF_MAGIC)) throw new ImageBuildError(`the kernel extracted from ${vmlinuz} is not an ELF file`);
}

/**
 * Module files (relative to lib/modules/<release>/) in a valid load order, resolved by kmod itself
 * (`modprobe --show-depends`) from modules.dep and softdeps, after depmod generated them for the
 * unpacked tree. Built-in modules resolve to nothing and are skipped.
 */
export async function resolveModules(kernel: UnpackedKernel, roots: readonly string[]): Promise<string[]> {
  await runTool('depmod', ['-b', kernel.root, kernel.release], { pkg: 'kmod' });
  const modDir = join(kernel.root, 'lib', 'modules', kernel.release);
  const order: string[] = [];
  for (const root of roots) {
    const out = await runTool('modprobe', ['-d', kernel.root, '-S', kernel.release, '--show-depends', root], {
      pkg: 'kmod',
    });
    for (const line of out.split('\n')) {
      const m = /^insmod\s+(\S+)/.exec(line);
      if (m?.[1] === undefined) continue;
      const rel = relative(modDir, m[1]);
      if (!order.includes(rel)) order.push(rel);
    }
  }
  if (order.length === 0) throw new ImageBuildError(`modprobe resolved none of ${roots.join(', ')} in ${modDir}`);
  return order;
}
