/**
 * Whether this process is the single executable (`npm run package`: a Node SEA), and what its packer put
 * in it. The packer writes `manifest.json` as a SEA asset: every embedded file with its sha256, and the
 * guest image appended after the SEA blob (image-archive.ts), if any. Outside the executable all of this
 * is absent, and every caller falls back to the checkout's or the npm package's own files.
 */
import { createRequire } from 'node:module';
import type * as SeaModule from 'node:sea';

// Loaded at run time: node:sea has isSea/getAsset only from Node 20.12, and a static import of a missing
// export would stop the whole CLI from loading on the 20.11 that package.json allows.
const sea: Partial<typeof SeaModule> = (() => {
  try {
    return createRequire(import.meta.url)('node:sea') as typeof SeaModule;
  } catch {
    return {};
  }
})();

/** One file of the host's assets, extracted to the same relative path under the assets dir. */
export interface EmbeddedFile {
  /** Relative to the assets dir, laid out like the package root (dist/agent/…, node_modules/node-pty/…). */
  path: string;
  /** The SEA asset key holding it. */
  asset: string;
  /** Of the extracted (uncompressed) bytes. */
  sha256: string;
  bytes: number;
  mode: number;
  gzip: boolean;
}

export interface EmbeddedImageInfo {
  id: string;
  kernelRelease: string;
  /** The appended archive: its length and sha256 (the footer repeats both). */
  archiveBytes: number;
  archiveSha256: string;
}

export interface SeaManifest {
  format: 1;
  /** 16 hex digits of a sha256 over every file's path and sha256: names the dir they are extracted to. */
  assetsId: string;
  /** The Node the executable was made from: also the guest's runtime (node/bin/node). */
  nodeVersion: string;
  files: EmbeddedFile[];
  image: EmbeddedImageInfo | null;
}

export const SEA_MANIFEST_ASSET = 'manifest.json';
/** Where the guest's Node runtime lands under the assets dir. */
export const GUEST_NODE_PATH = 'node/bin/node';

export function isSingleExecutable(): boolean {
  return sea.isSea?.() ?? false;
}

let manifest: SeaManifest | null | undefined;

/** The packer's manifest, or null outside the executable. */
export function seaManifest(): SeaManifest | null {
  if (manifest === undefined) {
    manifest = isSingleExecutable()
      ? (JSON.parse(embeddedAsset(SEA_MANIFEST_ASSET).toString('utf8')) as SeaManifest)
      : null;
  }
  return manifest;
}

export function embeddedAsset(key: string): Buffer {
  if (!sea.getAsset) throw new Error('not running as the single executable: it has no embedded assets');
  return Buffer.from(sea.getAsset(key));
}

/** For `version --json`: which assets are embedded, and their ids. Null outside the executable. */
export function embeddedReport(): {
  assetsId: string;
  files: Record<string, string>;
  image: { id: string; kernelRelease: string; archiveBytes: number } | null;
} | null {
  const m = seaManifest();
  if (!m) return null;
  return {
    assetsId: m.assetsId,
    files: Object.fromEntries(m.files.map((f) => [f.path, f.sha256])),
    image: m.image
      ? { id: m.image.id, kernelRelease: m.image.kernelRelease, archiveBytes: m.image.archiveBytes }
      : null,
  };
}
