/**
 * Writes the OCI image layout a pull hands on: `<cache>/registry/layouts/<alg>-<hex of the manifest>/`
 * with oci-layout, index.json (exactly one manifest, linux/amd64) and blobs/<alg>/<hex>. Config and layer
 * blobs are hard links to the layer cache (copies across filesystems), never symlinks. Built in a temp
 * dir beside it and renamed into place, so a layout is there whole or not at all; one already there whole
 * is kept (its index.json names the tag it was first pulled as).
 */
import { randomBytes } from 'node:crypto';
import {
  copyFileSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { isAlive, startTimeOf } from '../../store/process-identity.js';
import { OCI_INDEX } from './media-types.js';
import type { Descriptor } from './manifest.js';
import type { RegistryDirs } from './blob-cache.js';

export interface LayoutContent {
  manifest: { mediaType: string; digest: string; bytes: Buffer };
  /** Config and layers, with the cached file of each. */
  blobs: { desc: Descriptor; path: string }[];
  /** The tag, as `org.opencontainers.image.ref.name`. */
  refName?: string;
  /** The full reference pulled, as `io.virtualghost.image.reference`. */
  reference: string;
}

export function layoutDirFor(dirs: RegistryDirs, manifestDigest: string): string {
  return join(dirs.layouts, manifestDigest.replace(':', '-'));
}

function blobFile(root: string, digest: string): string {
  const [alg, hex] = digest.split(':') as [string, string];
  mkdirSync(join(root, 'blobs', alg), { recursive: true, mode: 0o700 });
  return join(root, 'blobs', alg, hex);
}

/** A layout already there for this manifest, whole: kept as it is (a converter may be reading it). */
function isWhole(dir: string, content: LayoutContent): boolean {
  try {
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { manifests?: { digest?: unknown }[] };
    if (index.manifests?.length !== 1 || index.manifests[0]?.digest !== content.manifest.digest) return false;
  } catch {
    return false;
  }
  const blobs = [
    { digest: content.manifest.digest, size: content.manifest.bytes.length },
    ...content.blobs.map((b) => b.desc),
  ];
  return blobs.every((b) => {
    const st = lstatSync(join(dir, 'blobs', ...b.digest.split(':')), { throwIfNoEntry: false });
    return st?.isFile() === true && st.size === b.size;
  });
}

export function writeLayout(dirs: RegistryDirs, content: LayoutContent): string {
  const final = layoutDirFor(dirs, content.manifest.digest);
  if (isWhole(final, content)) return final;
  const tmp = join(
    dirs.layouts,
    `.tmp-${process.pid}-${startTimeOf(process.pid) ?? 0}-${randomBytes(4).toString('hex')}`,
  );
  mkdirSync(tmp, { mode: 0o700 });
  try {
    writeFileSync(join(tmp, 'oci-layout'), `${JSON.stringify({ imageLayoutVersion: '1.0.0' })}\n`, { mode: 0o600 });
    writeFileSync(blobFile(tmp, content.manifest.digest), content.manifest.bytes, { mode: 0o600 });
    for (const { desc, path } of content.blobs) {
      const dest = blobFile(tmp, desc.digest);
      if (lstatSync(dest, { throwIfNoEntry: false })) continue; // a layer listed twice
      try {
        linkSync(path, dest);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
        copyFileSync(path, dest);
      }
    }
    const annotations: Record<string, string> = { 'io.virtualghost.image.reference': content.reference };
    if (content.refName !== undefined) annotations['org.opencontainers.image.ref.name'] = content.refName;
    const index = {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        {
          mediaType: content.manifest.mediaType,
          digest: content.manifest.digest,
          size: content.manifest.bytes.length,
          platform: { os: 'linux', architecture: 'amd64' },
          annotations,
        },
      ],
    };
    writeFileSync(join(tmp, 'index.json'), `${JSON.stringify(index, null, 2)}\n`, { mode: 0o600 });
    // A damaged layout is moved aside first, so that the rename puts a whole one in its place.
    const aside = `${tmp}-old`;
    if (tryRename(final, aside)) rmSync(aside, { recursive: true, force: true });
    if (!tryRename(tmp, final, ['ENOTEMPTY', 'EEXIST'])) rmSync(tmp, { recursive: true, force: true }); // another pull's won
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  return final;
}

/** Renames; false when `from` is gone (or `to` is taken, for the codes in `lost`). */
function tryRename(from: string, to: string, lost: readonly string[] = []): boolean {
  try {
    renameSync(from, to);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code === 'ENOENT' || lost.includes(code)) return false;
    throw err;
  }
}

/** Temp layouts of pulls that were killed (their pid and start time no longer name a live process). */
export function removeAbandonedLayouts(dirs: RegistryDirs): void {
  for (const name of readdirSync(dirs.layouts)) {
    const m = /^\.tmp-(\d+)-(\d+)-[0-9a-f]+(?:-old)?$/.exec(name);
    if (m && !isAlive({ pid: Number(m[1]), start: Number(m[2]) }))
      rmSync(join(dirs.layouts, name), { recursive: true, force: true });
  }
}
