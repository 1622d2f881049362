/**
 * Writes an OCI image layout (one linux/amd64 manifest) from layer blobs and a run config: what the
 * bench converts and the tests boot. (Images a user brings come from skopeo, docker or a registry.)
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OCI_CONFIG, OCI_MANIFEST } from './media-types.js';

export interface LayerBlobData {
  data: Buffer;
  mediaType: string;
  /** sha256 of the uncompressed tar (the config's diff_ids); the blob's own when it is not compressed. */
  diffId?: string;
}

export interface WrittenLayout {
  manifestDigest: string;
  layerDigests: string[];
  blob: (digest: string) => string;
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

export function writeOciLayout(
  dir: string,
  layers: readonly LayerBlobData[],
  config: Record<string, unknown>,
): WrittenLayout {
  const blobs = join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const put = (b: Buffer): string => {
    const h = sha(b);
    writeFileSync(join(blobs, h), b);
    return `sha256:${h}`;
  };
  const descs = layers.map((l) => ({ mediaType: l.mediaType, digest: put(l.data), size: l.data.length }));
  const configBlob = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config,
      rootfs: { type: 'layers', diff_ids: layers.map((l, i) => l.diffId ?? descs[i]?.digest) },
    }),
  );
  const configDesc = { mediaType: OCI_CONFIG, digest: put(configBlob), size: configBlob.length };
  const manifest = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: configDesc, layers: descs }),
  );
  const manifestDigest = put(manifest);
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const platform = { architecture: 'amd64', os: 'linux' };
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: OCI_MANIFEST, digest: manifestDigest, size: manifest.length, platform }],
    }),
  );
  return { manifestDigest, layerDigests: descs.map((d) => d.digest), blob: (d) => join(blobs, d.slice(7)) };
}
