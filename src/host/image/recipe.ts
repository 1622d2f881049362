/**
 * The recipe of a guest image: everything that decides its bytes. Its hash is the image id, so a new
 * kernel in Debian, a changed agent or a changed package list each give a new image, built once.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { projectFiles } from './project-files.js';

/** Bump when the builder changes what it produces for the same inputs. */
export const BUILDER_VERSION = 1;
export const DEBIAN_SUITE = 'bookworm';
export const KERNEL_METAPACKAGE = 'linux-image-amd64';

/** Roots of the module set; dependencies and softdeps come from the kernel's own modules.dep. */
export const GUEST_MODULES = [
  'virtio_mmio', // the Debian kernel lacks VIRTIO_MMIO_CMDLINE_DEVICES: ACPI describes the devices
  'virtio_blk',
  'ext4',
  'virtio_console',
  'vmw_vsock_virtio_transport',
  'vsock_loopback',
  'virtio_rng', // without it Node blocks on entropy at start (+0.75 s)
  'virtio_net', // the NIC of `--net` (no device, no cost: the driver only binds to one)
  '9pnet_virtio', // `-v` mounts on QEMU: virtio-9p (workspace/qemu-9p.ts)
  '9p',
  'virtiofs', // measured against 9p (bench): virtio-fs needs shared guest RAM, which warm clones lack
] as const;

export const GUEST_PACKAGES = [
  'bash',
  'coreutils',
  'procps',
  'less',
  'vim-tiny',
  'ca-certificates',
  'ncurses-base',
  'ncurses-term',
  'libstdc++6', // the Node runtime links it
  'socat', // AF_VSOCK listener (Firecracker)
  'openssh-sftp-server', // the SFTP subsystem
  'tini', // PID 1: reaps orphans, forwards signals
  'iproute2',
  'rsync',
  'file',
  'xz-utils',
] as const;

/**
 * Sorted, without duplicates and without what the image has anyway: the recipe's form, so that the same
 * set in any order (or `--package bash`) gives the same image id.
 */
export function canonicalExtraPackages(names: readonly string[]): string[] {
  const base = new Set<string>(GUEST_PACKAGES);
  return [...new Set(names)].filter((n) => !base.has(n)).sort();
}

export interface KernelPackage {
  name: string;
  version: string;
}

export interface Recipe {
  builder: number;
  suite: string;
  kernel: KernelPackage;
  modules: readonly string[];
  packages: readonly string[];
  /**
   * image.packages / --package, in canonical form (canonicalExtraPackages). Absent when there are none, so
   * the default image keeps the id it had before extra packages existed.
   */
  extraPackages?: readonly string[];
  rootfsSizeMiB: number;
  /** Hash of every project file and the Node runtime copied into the image. */
  payload: string;
}

function hashFiles(h: ReturnType<typeof createHash>, files: readonly string[]): void {
  for (const f of files) {
    h.update(f.split('/').slice(-2).join('/'));
    h.update(readFileSync(f));
  }
}

export function payloadHash(): string {
  const files = projectFiles();
  const h = createHash('sha256');
  hashFiles(h, [
    files.agentBundle,
    files.helperSource,
    files.guestInit,
    files.initramfsInit,
    join(files.nodePtyDir, 'package.json'),
    join(files.nodePtyDir, 'build', 'Release', 'pty.node'),
  ]);
  // The Node binary is ~100 MB: its version and size identify it well enough, without hashing it each run.
  h.update(`${process.version} ${statSync(files.nodeRuntime).size}`);
  return h.digest('hex');
}

/** `extraPackages` must already be canonical (canonicalExtraPackages): the id hashes it as given. */
export function makeRecipe(kernel: KernelPackage, extraPackages: readonly string[] = []): Recipe {
  return {
    builder: BUILDER_VERSION,
    suite: DEBIAN_SUITE,
    kernel,
    modules: GUEST_MODULES,
    packages: GUEST_PACKAGES,
    ...(extraPackages.length ? { extraPackages } : {}),
    rootfsSizeMiB: 2048,
    payload: payloadHash(),
  };
}

export function recipeId(recipe: Recipe): string {
  return createHash('sha256').update(JSON.stringify(recipe)).digest('hex').slice(0, 16);
}
