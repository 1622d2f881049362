/**
 * Real tar files and OCI image layouts for tests, written byte by byte with node-tar's header encoder,
 * so entries a normal archiver refuses to write (`../x`, `/abs`) can be made too.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Header } from 'tar';

export interface TarEntry {
  path: string;
  type?: 'File' | 'Directory' | 'SymbolicLink' | 'Link';
  data?: string | Buffer;
  linkpath?: string;
  mode?: number;
  uid?: number;
  gid?: number;
}

export function makeTar(entries: readonly TarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const type = e.type ?? 'File';
    const data = type === 'File' ? Buffer.from(e.data ?? '') : Buffer.alloc(0);
    const h = new Header({
      path: e.path,
      type,
      size: data.length,
      mode: e.mode ?? (type === 'Directory' ? 0o755 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      mtime: new Date(1_700_000_000_000),
      ...(e.linkpath !== undefined ? { linkpath: e.linkpath } : {}),
    });
    const block = Buffer.alloc(512);
    h.encode(block, 0);
    blocks.push(block, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

export interface LayoutSpec {
  layers: Buffer[];
  /** gzip the layers (the usual registry form) */
  gzip?: boolean;
  config?: Record<string, unknown>;
}

/** Writes an OCI image layout with one linux/amd64 manifest; returns the manifest digest and blob paths. */
export function writeLayout(
  dir: string,
  spec: LayoutSpec,
): { manifestDigest: string; layerDigests: string[]; blob: (d: string) => string } {
  const blobs = join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const put = (b: Buffer): string => {
    const h = sha(b);
    writeFileSync(join(blobs, h), b);
    return `sha256:${h}`;
  };
  const layerBlobs = spec.layers.map((l) => (spec.gzip ? gzipSync(l) : l));
  const layers = layerBlobs.map((b) => ({
    mediaType: `application/vnd.oci.image.layer.v1.tar${spec.gzip ? '+gzip' : ''}`,
    digest: put(b),
    size: b.length,
  }));
  const configBlob = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: spec.config ?? {},
      rootfs: { type: 'layers', diff_ids: spec.layers.map((l) => `sha256:${sha(l)}`) },
    }),
  );
  const config = {
    mediaType: 'application/vnd.oci.image.config.v1+json',
    digest: put(configBlob),
    size: configBlob.length,
  };
  const manifest = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers }),
  );
  const manifestDigest = put(manifest);
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: manifestDigest,
          size: manifest.length,
          platform: { architecture: 'amd64', os: 'linux' },
        },
      ],
    }),
  );
  return { manifestDigest, layerDigests: layers.map((l) => l.digest), blob: (d) => join(blobs, d.slice(7)) };
}

/** The same image as `docker save` writes it (legacy layout: manifest.json, config, <id>/layer.tar). */
export function dockerSaveTar(spec: LayoutSpec): Buffer {
  const configBlob = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: spec.config ?? {} }));
  const cfgName = `${sha(configBlob)}.json`;
  const entries: TarEntry[] = [{ path: cfgName, data: configBlob }];
  const layerNames = spec.layers.map((l, i) => {
    entries.push({ path: `layer${i}/`, type: 'Directory' }, { path: `layer${i}/layer.tar`, data: l });
    return `layer${i}/layer.tar`;
  });
  entries.push({
    path: 'manifest.json',
    data: JSON.stringify([{ Config: cfgName, RepoTags: ['test:1'], Layers: layerNames }]),
  });
  return makeTar(entries);
}
