/**
 * Real tar files and OCI image layouts for tests, written byte by byte with node-tar's header encoder,
 * so entries a normal archiver refuses to write (`../x`, `/abs`) can be made too.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { Header } from 'tar';
import { writeOciLayout, type WrittenLayout } from '../../src/host/image/oci/write-layout.js';

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
  /** gzip the layers (the usual registry form), or zstd them (the zstd CLI) */
  gzip?: boolean;
  zstd?: boolean;
  config?: Record<string, unknown>;
}

/** An OCI image layout of these (uncompressed) layers, compressed as asked. */
export function writeLayout(dir: string, spec: LayoutSpec): WrittenLayout {
  const layers = spec.layers.map((l) => ({
    data: spec.gzip
      ? gzipSync(l)
      : spec.zstd
        ? execFileSync('zstd', ['-q', '-c'], { input: l, maxBuffer: 1 << 30 })
        : l,
    mediaType: `application/vnd.oci.image.layer.v1.tar${spec.gzip ? '+gzip' : spec.zstd ? '+zstd' : ''}`,
    diffId: `sha256:${sha(l)}`,
  }));
  return writeOciLayout(dir, layers, spec.config ?? {});
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
