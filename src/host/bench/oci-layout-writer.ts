/**
 * Builds OCI image layouts for tests and the bench, the way an image builder would: gzipped tar layers made with
 * the real `tar`, an image config, a manifest, and (for several platforms) an image index.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

export interface Desc {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string };
}

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A gzipped tar of `files` (path → content), reproducible (fixed owner and mtime). */
export function tarLayer(files: Record<string, string | Buffer>): { gz: Buffer; diffId: string } {
  const dir = mkdtempSync(join(tmpdir(), 'vg-layer-'));
  try {
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), content);
    }
    const tar = execFileSync(
      'tar',
      ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '-C', dir, '-cf', '-', '.'],
      {
        maxBuffer: 1 << 30,
      },
    );
    return { gz: gzipSync(tar, { level: 1 }), diffId: sha(tar) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export class OciLayoutWriter {
  constructor(readonly dir: string) {
    mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
    writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  }

  blob(mediaType: string, bytes: Buffer): Desc {
    const digest = sha(bytes);
    writeFileSync(join(this.dir, 'blobs', 'sha256', digest.slice(7)), bytes);
    return { mediaType, digest, size: bytes.length };
  }

  /** One image: its layers (bottom first) and config; returns the manifest's descriptor. */
  image(architecture: string, layers: { gz: Buffer; diffId: string }[], env: string[] = []): Desc {
    const config = this.blob(
      'application/vnd.oci.image.config.v1+json',
      Buffer.from(
        JSON.stringify({
          architecture,
          os: 'linux',
          config: { Env: env },
          rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
        }),
      ),
    );
    const layerDescs = layers.map((l) => this.blob('application/vnd.oci.image.layer.v1.tar+gzip', l.gz));
    const manifest = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config,
      layers: layerDescs,
    };
    return {
      ...this.blob('application/vnd.oci.image.manifest.v1+json', Buffer.from(JSON.stringify(manifest))),
      platform: { os: 'linux', architecture },
    };
  }

  /** An image index over `manifests` (each with its platform). */
  index(manifests: Desc[]): Desc {
    const index = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests };
    return this.blob('application/vnd.oci.image.index.v1+json', Buffer.from(JSON.stringify(index)));
  }

  /** index.json: `tag` names `top` (a manifest, or an index for a multi-platform image). */
  tag(tag: string, top: Desc): void {
    const { platform: _p, ...desc } = top;
    writeFileSync(
      join(this.dir, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [{ ...desc, annotations: { 'org.opencontainers.image.ref.name': tag } }],
      }),
    );
  }
}
