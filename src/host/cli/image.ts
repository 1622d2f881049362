/** `virtualghost image build [--force] [--json] | ls [--json] | rm ID...|--all`. */
import { ensureImage } from '../image/build.js';
import { describeDamage, discardImageDir, diskUsage, listImages, readImage, scanImages } from '../image/cache.js';
import { ImageNotFoundError } from '../image/errors.js';
import { imageSourceText } from '../image/image-origin-text.js';
import { lastUsed } from '../image/last-used.js';
import { ghostPaths } from '../store/paths.js';
import { extraPackages } from '../session.js';
import { cliContext } from './context.js';
import { escapeControl } from '../../shared/escape-control.js';
import { notice } from './context.js';
import { buildProgressPrinter } from './progress.js';

/** Builds the image `run` would use: the current recipe, with image.packages / --package (the `image` key aside). */
export async function imageBuild(opts: { force?: boolean; json?: boolean; package?: string[] }): Promise<number> {
  const { paths, config } = cliContext({ 'image.packages': opts.package });
  const packages = extraPackages(config);
  const img = await ensureImage({
    imagesDir: paths.imagesDir,
    force: opts.force ?? false,
    ...(packages ? { packages } : {}),
    onProgress: buildProgressPrinter(),
    onNotice: notice,
  });
  const extra = img.manifest.recipe.extraPackages ?? [];
  if (opts.json) {
    const m = img.manifest;
    process.stdout.write(
      `${JSON.stringify({ id: img.id, kernel: m.kernelRelease, packages: extra, createdAt: m.createdAt, buildSeconds: m.buildSeconds, dir: img.dir }, null, 2)}\n`,
    );
    return 0;
  }
  process.stdout.write(
    `${img.id}  ${img.manifest.kernelRelease}${extra.length ? `  +${extra.join(',')}` : ''}  built ${img.manifest.createdAt} in ${img.manifest.buildSeconds}s  ${img.dir}\n`,
  );
  return 0;
}

export function imageList(opts: { json?: boolean }): number {
  const paths = ghostPaths();
  const images = listImages(paths.imagesDir);
  warnDamaged(paths.imagesDir);
  if (opts.json) {
    process.stdout.write(
      `${JSON.stringify(
        images.map((i) => ({
          id: i.id,
          kernel: i.manifest.kernelRelease,
          source: imageSourceText(i),
          ...(i.manifest.source
            ? { ref: i.manifest.source.ref, manifestDigest: i.manifest.source.manifestDigest }
            : {}),
          createdAt: i.manifest.createdAt,
          lastUsed: lastUsed(i).toISOString(),
          diskBytes: diskUsage(i.dir),
          dir: i.dir,
        })),
        null,
        2,
      )}\n`,
    );
    return 0;
  }
  if (images.length === 0) {
    process.stdout.write('no images yet: `virtualghost image build` (or any `run`) builds one\n');
    return 0;
  }
  const when = (d: Date): string => d.toISOString().slice(0, 16).replace('T', ' ');
  process.stdout.write(`${'ID'.padEnd(18)}${'LAST USED'.padEnd(18)}${'SIZE'.padStart(8)}  SOURCE\n`);
  for (const i of images) {
    process.stdout.write(
      `${i.id.padEnd(18)}${when(lastUsed(i)).padEnd(18)}${`${(diskUsage(i.dir) / 1e6).toFixed(0)} MB`.padStart(8)}  ${escapeControl(imageSourceText(i))}\n`,
    );
  }
  return 0;
}

/** Damaged images are not listed as images, but must not be invisible either: they hold disk space. */
function warnDamaged(imagesDir: string): void {
  for (const c of scanImages(imagesDir)) {
    if (c.state === 'damaged')
      notice(
        `image ${escapeControl(c.id)} is damaged (${escapeControl(describeDamage(c))}): remove it with \`virtualghost image rm ${escapeControl(c.id)}\``,
      );
  }
}

/** Removes images, damaged ones included (that is how a damaged image asked for by id is fixed). */
export function imageRemove(ids: string[], opts: { all?: boolean }): number {
  const paths = ghostPaths();
  const targets = opts.all
    ? scanImages(paths.imagesDir)
        .map((c) => c.id)
        .filter((id) => IMAGE_ID.test(id))
    : ids;
  for (const id of targets) {
    // Checked before it is joined into a path: an id is 16 hex digits, never `..` or a path.
    if (!IMAGE_ID.test(id) || readImage(paths.imagesDir, id).state === 'absent')
      throw new ImageNotFoundError(
        `no image ${escapeControl(id)} in ${paths.imagesDir}; see \`virtualghost image ls\``,
      );
    discardImageDir(paths.imagesDir, id);
    process.stdout.write(`removed ${id}\n`);
  }
  return 0;
}

const IMAGE_ID = /^[0-9a-f]{16}$/;
