/**
 * An OCI image (layout dir, `docker save` archive, or a registry pull) as a VirtualGhost image: its
 * layers applied into a tree, our guest side injected under /opt/ghostly, the tree made into ext4, with
 * the Debian image's kernel and initramfs (hard links to the same files). Converted once per manifest
 * digest (and base image: a new agent gives a new id), in images/.tmp-… renamed into place when whole;
 * any failure removes the temp dir, so nothing half-written is ever in the cache.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, linkSync, lstatSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { IMAGE_PROFILE_FILE, type ImageProfile } from '../../../shared/image-profile.js';
import { ensurePrivateDir } from '../../store/private-dir.js';
import { tempDirName } from '../../store/temp-dir.js';
import {
  imageFiles,
  readImage,
  removeStaleBuilds,
  TMP_PREFIX,
  type CachedImage,
  type ImageManifest,
} from '../cache.js';
import { publishImage } from '../build.js';
import { ImageBuildError } from '../errors.js';
import { makeExt4 } from '../rootfs.js';
import { stampVerified } from '../verify.js';
import { applyLayer } from './apply-layer.js';
import { dockerArchiveToLayout } from './docker-archive.js';
import { entryParts, resolveParent } from './in-root.js';
import { INJECTED_SFTP_ARGV, injectGuestSide } from './inject.js';
import { resolveImageUser } from './image-user.js';
import type { ImageSource } from './image-source.js';
import type { ImageOrigin } from './origin.js';
import { manifestDigestOf, readOciImage, type OciImage } from './layout.js';
import { pullRegistryImage } from './registry-source.js';

/** Bump when the converter makes something else of the same image. */
export const CONVERTER_VERSION = 1;

export type OciSource = Extract<ImageSource, { kind: 'oci' | 'docker-archive' | 'registry' }>;

export interface ConvertOptions {
  imagesDir: string;
  base: CachedImage;
  source: OciSource;
  signal?: AbortSignal;
  onProgress?: (line: string) => void;
}

export function ociImageId(manifestDigest: string, base: string): string {
  return createHash('sha256')
    .update(JSON.stringify({ converter: CONVERTER_VERSION, manifestDigest, base }))
    .digest('hex')
    .slice(0, 16);
}

const describe = (s: OciSource): string => (s.kind === 'registry' ? s.ref : `${s.kind}:${s.path}`);

export async function ensureOciImage(opts: ConvertOptions): Promise<CachedImage> {
  mkdirSync(opts.imagesDir, { recursive: true });
  removeStaleBuilds(opts.imagesDir);
  const started = Date.now();
  let layoutDir: string;
  let wanted: string | undefined;
  const scratch: string[] = [];
  try {
    if (opts.source.kind === 'oci') {
      layoutDir = resolve(opts.source.path);
      wanted = opts.source.digest;
    } else if (opts.source.kind === 'registry') {
      // The layer cache is beside images/ (<cache>/registry/), not in it.
      const pulled = await pullRegistryImage(opts.source.ref, {
        cacheDir: dirname(opts.imagesDir),
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      });
      layoutDir = pulled.layoutDir;
      wanted = pulled.manifestDigest;
    } else {
      // Named like a build of the archive's own key, so `clean` and the sweeps treat a leftover alike.
      const key = createHash('sha256').update(resolve(opts.source.path)).digest('hex').slice(0, 16);
      layoutDir = join(opts.imagesDir, tempDirName(TMP_PREFIX, key));
      scratch.push(layoutDir);
      ensurePrivateDir(layoutDir);
      opts.onProgress?.(`reading ${opts.source.path}`);
      await dockerArchiveToLayout(resolve(opts.source.path), layoutDir);
    }
    const digest = manifestDigestOf(layoutDir, wanted);
    const id = ociImageId(digest, opts.base.id);
    const cached = readImage(opts.imagesDir, id);
    if (cached.state === 'ok') return cached.image;
    opts.onProgress?.(`converting ${describe(opts.source)} (${digest})`);
    const image = await readOciImage(layoutDir, digest);
    const origin: ImageOrigin = {
      kind: opts.source.kind,
      ref: opts.source.kind === 'registry' ? opts.source.ref : resolve(opts.source.path),
      manifestDigest: digest,
      config: image.config,
      base: opts.base.id,
    };
    return await convert(opts, image, id, origin, started);
  } finally {
    for (const d of scratch) rmSync(d, { recursive: true, force: true });
  }
}

async function convert(
  opts: ConvertOptions,
  image: OciImage,
  id: string,
  origin: ImageOrigin,
  started: number,
): Promise<CachedImage> {
  if (process.getuid?.() !== 0)
    throw new ImageBuildError(
      `converting ${describe(opts.source)} needs root (the image's files keep their owners, which only root can set); run it once as root, or use the default image`,
    );
  const tmp = join(opts.imagesDir, tempDirName(TMP_PREFIX, id));
  const cleanup = (): void => rmSync(tmp, { recursive: true, force: true });
  process.once('exit', cleanup);
  try {
    ensurePrivateDir(tmp);
    const work = join(tmp, 'work');
    const rootfs = join(work, 'rootfs');
    mkdirSync(rootfs, { recursive: true, mode: 0o755 });
    chmodSync(rootfs, 0o755);
    for (const [i, layer] of image.layers.entries()) {
      opts.onProgress?.(`layer ${i + 1}/${image.layers.length} ${layer.digest}`);
      await applyLayer(rootfs, layer);
    }
    addMountPoints(rootfs);
    opts.onProgress?.('injecting the guest side under /opt/ghostly');
    const optParts = entryParts('opt/ghostly/x');
    const optDir = join(rootfs, ...resolveParent(rootfs, optParts));
    await injectGuestSide(optDir, join(work, 'inject'), opts.signal);
    writeProfile(rootfs, optDir, image, origin.manifestDigest);

    const out = imageFiles(tmp);
    opts.onProgress?.('ext4 image');
    const treeBytes = Number(execFileSync('du', ['-sb', rootfs], { encoding: 'utf8' }).split('\t')[0]);
    const sizeMiB = Math.max(2048, Math.ceil((treeBytes * 1.5) / 2 ** 20) + 256);
    await makeExt4({ dir: rootfs, out: out.rootfs, sizeMiB });
    rmSync(work, { recursive: true, force: true });
    shareFile(opts.base.kernel, out.kernel);
    shareFile(opts.base.initrd, out.initrd);
    const base = opts.base.manifest;
    const manifest: ImageManifest = {
      id,
      recipe: base.recipe,
      source: origin,
      kernelRelease: base.kernelRelease,
      createdAt: new Date().toISOString(),
      buildSeconds: Math.round((Date.now() - started) / 100) / 10,
      bytes: { vmlinux: base.bytes.vmlinux, initrd: base.bytes.initrd, rootfsApparent: statSync(out.rootfs).size },
      ...(base.sha256 ? { sha256: base.sha256 } : {}),
    };
    writeFileSync(out.manifest, `${JSON.stringify(manifest, null, 2)}\n`);
    for (const f of [out.rootfs, out.manifest]) chmodSync(f, 0o444);
    stampVerified(tmp, [out.kernel, out.initrd]);
    chmodSync(tmp, 0o755);
    return publishImage(tmp, opts.imagesDir, id);
  } catch (err) {
    cleanup();
    throw err;
  } finally {
    process.removeListener('exit', cleanup);
  }
}

/** The base image's files are read-only and content-checked: a hard link shares them (a copy across devices). */
function shareFile(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
    chmodSync(to, 0o444);
  }
}

function writeProfile(rootfs: string, optDir: string, image: OciImage, digest: string): void {
  const user = resolveImageUser(rootfs, image.config.User, digest);
  const hasBash = existsInRoot(rootfs, 'bin/bash');
  const profile: ImageProfile = {
    shell: hasBash ? '/bin/bash' : '/bin/sh',
    env: image.config.Env ?? [],
    ...(image.config.WorkingDir && isAbsolute(image.config.WorkingDir) ? { cwd: image.config.WorkingDir } : {}),
    ...user,
    sftpServer: INJECTED_SFTP_ARGV,
  };
  writeFileSync(join(optDir, IMAGE_PROFILE_FILE.split('/').pop() as string), `${JSON.stringify(profile, null, 2)}\n`);
}

/**
 * The API filesystems' mount points (layers often leave /dev, /proc, /sys out), as container runtimes
 * add them: empty dirs, only where the image has nothing of that name.
 */
function addMountPoints(rootfs: string): void {
  for (const [name, mode] of [
    ['dev', 0o755],
    ['proc', 0o555],
    ['sys', 0o555],
    ['run', 0o755],
    ['tmp', 0o1777],
  ] as const) {
    if (existsInRoot(rootfs, name)) continue;
    mkdirSync(join(rootfs, name));
    chmodSync(join(rootfs, name), mode);
  }
}

/** Whether the tree has an entry at `path` (a symlink counts as itself: nothing is followed on the host). */
function existsInRoot(rootfs: string, path: string): boolean {
  try {
    const parts = entryParts(path);
    lstatSync(join(rootfs, ...resolveParent(rootfs, parts), parts[parts.length - 1] ?? ''));
    return true;
  } catch {
    return false;
  }
}
