/**
 * Writes the OCI image layout a pull hands on: `<cache>/registry/layouts/<alg>-<hex of the manifest>/`
 * with oci-layout, index.json (exactly one manifest, linux/amd64) and blobs/<alg>/<hex>. Config and layer
 * blobs are hard links to the layer cache (copies across filesystems), never symlinks. Built in a temp
 * dir beside it and renamed into place, so a layout is there whole or not at all.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, linkSync, mkdirSync, renameSync, rmSync, writeFileSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
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

export function writeLayout(dirs: RegistryDirs, content: LayoutContent): string {
  const final = layoutDirFor(dirs, content.manifest.digest);
  const tmp = join(dirs.layouts, `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
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
    // The same manifest pulled under another tag replaces the index.json naming it; blobs are the same.
    rmSync(final, { recursive: true, force: true });
    renameSync(tmp, final);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  return final;
}
