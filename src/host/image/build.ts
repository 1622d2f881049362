/**
 * Builds (or finds) the guest image for the current recipe. Steps report progress; the build happens in
 * a temp dir that is renamed into place only when complete, and removed on any failure or abort.
 */
import { chmodSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ensurePrivateDir } from '../store/private-dir.js';
import { checkPackagesKnown, downloadPackage, resolveKernelPackageCached } from './apt.js';
import {
  describeDamage,
  discardImageDir,
  imageFiles,
  listImages,
  readImage,
  removeStaleBuilds,
  TMP_PREFIX,
  type CachedImage,
  type ImageManifest,
} from './cache.js';
import type { BuildProgress } from './build-progress.js';
import { publishImage } from './publish.js';
import { ensureEmbeddedImage } from '../sea/embedded-image.js';
import { buildInitramfs } from './initramfs.js';
import { extractVmlinux, resolveModules, unpackKernel } from './kernel.js';
import { assemblePayload } from './payload.js';
import { canonicalExtraPackages, GUEST_MODULES, makeRecipe, payloadHash, recipeId, type Recipe } from './recipe.js';
import { bootstrapRootfs, makeExt4, upgradeExt2 } from './rootfs.js';
import { projectFiles } from './project-files.js';
import { runTool } from './run-tool.js';
import { tempDirName } from '../store/temp-dir.js';
import { sha256File, stampVerified } from './verify.js';

export type { BuildProgress } from './build-progress.js';
export { publishImage } from './publish.js';

export interface EnsureImageOptions {
  imagesDir: string;
  force?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: BuildProgress) => void;
  /** One line for the user, e.g. that a damaged image is being rebuilt. */
  onNotice?: (line: string) => void;
  /** Extra Debian packages (valid names, any order), and where they were given for error messages. */
  packages?: ExtraPackages;
}

export interface ExtraPackages {
  names: readonly string[];
  /** e.g. "--package" or "image.packages (from /home/u/.config/virtualghost/config.toml)". */
  from: string;
}

const STEPS = [
  'resolve kernel',
  'download packages',
  'extract kernel',
  'initramfs',
  'payload',
  'root filesystem (mmdebstrap)',
  'ext4 image',
] as const;

export async function currentRecipe(cacheDir: string, extraPackages: readonly string[] = []): Promise<Recipe> {
  return makeRecipe(await resolveKernelPackageCached(cacheDir), canonicalExtraPackages(extraPackages));
}

const sameExtras = (recipe: Recipe, extras: readonly string[]): boolean =>
  JSON.stringify(recipe.extraPackages ?? []) === JSON.stringify(extras);

/**
 * Refuses extra packages apt does not know before anything else happens (a VM dir, a boot, a build).
 * Nothing to ask apt when there are none, or when their image is cached already.
 */
export async function checkImagePackages(imagesDir: string, packages: ExtraPackages | undefined): Promise<void> {
  const extras = canonicalExtraPackages(packages?.names ?? []);
  if (!packages || extras.length === 0) return;
  let recipe: Recipe;
  try {
    recipe = await currentRecipe(dirname(imagesDir), extras);
  } catch {
    return; // no apt lists: ensureImage says so, or uses a cached image of the same packages
  }
  if (readImage(imagesDir, recipeId(recipe)).state === 'ok') return;
  await checkPackagesKnown(extras, packages.from);
}

/** Returns the image for the current recipe, building it first if needed. */
export async function ensureImage(opts: EnsureImageOptions): Promise<CachedImage> {
  const report = (i: number, detail?: string, bytes?: number): void =>
    opts.onProgress?.({
      step: i + 1,
      steps: STEPS.length,
      title: STEPS[i] ?? '',
      ...(detail !== undefined ? { detail } : {}),
      ...(bytes !== undefined ? { bytes } : {}),
    });
  const extras = canonicalExtraPackages(opts.packages?.names ?? []);
  // The single executable's own image needs no apt, mmdebstrap or compiler: it only has to be unpacked.
  if (extras.length === 0 && !opts.force) {
    const embedded = await ensureEmbeddedImage(opts);
    if (embedded) return embedded;
  }
  let recipe: Recipe;
  try {
    recipe = await currentRecipe(dirname(opts.imagesDir), extras);
  } catch (err) {
    // Offline or no apt lists: an image built from this very payload (and package set) is still good to use.
    const payload = payloadHash();
    const usable = listImages(opts.imagesDir).find(
      (i) => !i.manifest.source && i.manifest.recipe.payload === payload && sameExtras(i.manifest.recipe, extras),
    );
    if (usable && !opts.force) return usable;
    throw err;
  }
  const id = recipeId(recipe);
  const existing = readImage(opts.imagesDir, id);
  if (existing.state === 'ok' && !opts.force) return existing.image;
  if (existing.state === 'damaged') {
    // The current recipe's image can be made again: replace it rather than fail on every run.
    opts.onNotice?.(`image ${id} is damaged (${describeDamage(existing)}): removing it and building it again`);
    discardImageDir(opts.imagesDir, id);
  }
  if (opts.packages) await checkPackagesKnown(extras, opts.packages.from);
  return await buildImage(opts, recipe, id, report);
}

async function buildImage(
  opts: EnsureImageOptions,
  recipe: Recipe,
  id: string,
  report: (i: number, detail?: string, bytes?: number) => void,
): Promise<CachedImage> {
  const started = Date.now();
  report(0, `${recipe.kernel.name} ${recipe.kernel.version}`);
  mkdirSync(opts.imagesDir, { recursive: true });
  removeStaleBuilds(opts.imagesDir);
  const tmp = join(opts.imagesDir, tempDirName(TMP_PREFIX, id));
  ensurePrivateDir(tmp);
  const work = join(tmp, 'work');
  mkdirSync(work);
  const signal = opts.signal;
  const cleanup = (): void => rmSync(tmp, { recursive: true, force: true });
  process.once('exit', cleanup);
  try {
    report(1, `${recipe.kernel.name} ${recipe.kernel.version}, busybox-static`);
    const kernelDeb = await downloadPackage(`${recipe.kernel.name}=${recipe.kernel.version}`, work, signal);
    const busyboxDeb = await downloadPackage('busybox-static', work, signal);
    report(1, undefined, statSync(kernelDeb).size + statSync(busyboxDeb).size);

    report(2);
    const kernel = await unpackKernel(kernelDeb, join(work, 'kernel'));
    const out = imageFiles(tmp);
    await extractVmlinux(kernel.vmlinuz, out.kernel);
    report(2, kernel.release, statSync(out.kernel).size);

    report(3);
    const modules = await resolveModules(kernel, GUEST_MODULES);
    const busybox = join(work, 'busybox');
    await runTool('dpkg-deb', ['-x', busyboxDeb, busybox], { pkg: 'dpkg' });
    const initrdBytes = buildInitramfs({
      kernel,
      modules,
      busybox: join(busybox, 'bin', 'busybox'),
      init: projectFiles().initramfsInit,
      out: out.initrd,
    });
    report(3, `${modules.length} modules`, initrdBytes);

    report(4);
    const payload = join(work, 'payload');
    await assemblePayload(payload);

    report(5, 'starting');
    const asRoot = process.getuid?.() === 0;
    const tree = asRoot ? join(work, 'rootfs') : out.rootfs;
    await bootstrapRootfs({
      payloadDir: payload,
      out: tree,
      format: asRoot ? 'directory' : 'ext2',
      extraPackages: recipe.extraPackages ?? [],
      onLine: (line) => report(5, line.replace(/^I: /, '')),
      ...(signal ? { signal } : {}),
    });
    report(5, 'done');

    report(6);
    if (asRoot) await makeExt4({ dir: tree, out: out.rootfs, sizeMiB: recipe.rootfsSizeMiB });
    else await upgradeExt2({ image: out.rootfs, sizeMiB: recipe.rootfsSizeMiB });
    rmSync(work, { recursive: true, force: true });

    const manifest: ImageManifest = {
      id,
      recipe,
      kernelRelease: kernel.release,
      createdAt: new Date().toISOString(),
      buildSeconds: Math.round((Date.now() - started) / 100) / 10,
      bytes: {
        vmlinux: statSync(out.kernel).size,
        initrd: statSync(out.initrd).size,
        rootfsApparent: statSync(out.rootfs).size,
      },
      sha256: { vmlinux: sha256File(out.kernel), initrd: sha256File(out.initrd) },
    };
    writeFileSync(out.manifest, `${JSON.stringify(manifest, null, 2)}\n`);
    for (const f of [out.kernel, out.initrd, out.rootfs, out.manifest]) chmodSync(f, 0o444);
    stampVerified(tmp, [out.kernel, out.initrd]);
    chmodSync(tmp, 0o755);
    if (opts.force) discardImageDir(opts.imagesDir, id);
    const image = publishImage(tmp, opts.imagesDir, id);
    report(6, 'done', statSync(image.rootfs).blocks * 512);
    return image;
  } catch (err) {
    cleanup();
    throw err;
  } finally {
    process.removeListener('exit', cleanup);
  }
}
