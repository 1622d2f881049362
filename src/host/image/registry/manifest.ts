/**
 * Manifests and image indexes: fetched, checked against their digest (the one asked for when pinned,
 * and the registry's Docker-Content-Digest otherwise), parsed, and an index resolved to its linux/amd64
 * image. The bytes are kept as received: the layout stores them under the digest they hash to.
 */
import { createHash } from 'node:crypto';
import * as v from 'valibot';
import { escapeControl } from '../../../shared/escape-control.js';
import type { RegistryClient } from './client.js';
import { readLimited } from './http-body.js';
import { RegistryDigestMismatchError, RegistryNoPlatformError, RegistryProtocolError } from './errors.js';
import { ACCEPT, CONFIG_TYPES, DOCKER_SCHEMA1, INDEX_TYPES, LAYER_TYPES, MANIFEST_TYPES } from './media-types.js';
import { DIGEST } from './reference.js';

const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

const descriptor = v.object({
  mediaType: v.string(),
  digest: v.pipe(v.string(), v.regex(DIGEST)),
  size: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(Number.MAX_SAFE_INTEGER)),
});
export type Descriptor = v.InferOutput<typeof descriptor>;

const platform = v.object({ os: v.string(), architecture: v.string(), variant: v.optional(v.string()) });
const indexSchema = v.object({
  schemaVersion: v.literal(2),
  manifests: v.array(v.object({ ...descriptor.entries, platform: v.optional(platform) })),
});
const manifestSchema = v.object({
  schemaVersion: v.literal(2),
  config: descriptor,
  layers: v.array(descriptor),
});
export type ImageManifest = v.InferOutput<typeof manifestSchema>;

export interface FetchedManifest {
  mediaType: string;
  digest: string;
  bytes: Buffer;
  manifest: ImageManifest;
}

export function digestOf(bytes: Buffer, algorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

interface Raw {
  mediaType: string;
  digest: string;
  bytes: Buffer;
  doc: unknown;
}

async function fetchRaw(client: RegistryClient, reference: string, pinned: string | undefined): Promise<Raw> {
  const res = await client.get(`manifests/${reference}`, { accept: ACCEPT }, `manifest ${reference}`);
  const bytes = await readLimited(res, MAX_MANIFEST_BYTES);
  const algorithm = pinned?.split(':')[0] ?? 'sha256';
  const digest = digestOf(bytes, algorithm);
  if (pinned !== undefined && digest !== pinned)
    throw new RegistryDigestMismatchError(
      `registry ${client.ref.registry} sent a manifest for ${client.name} whose digest is ${digest}, not ${pinned}: it is corrupted or was tampered with; nothing was stored`,
    );
  const claimed = res.headers.get('docker-content-digest');
  if (pinned === undefined && claimed !== null && claimed.startsWith('sha256:') && claimed !== digest)
    throw new RegistryDigestMismatchError(
      `registry ${client.ref.registry} sent a manifest for ${client.name} whose digest is ${digest}, not the ${escapeControl(claimed)} it announced: it is corrupted or was tampered with; nothing was stored`,
    );
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new RegistryProtocolError(`the manifest ${digest} of ${client.name} is not JSON`);
  }
  const declared = (doc as { mediaType?: unknown } | null)?.mediaType;
  const header = (res.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
  const mediaType = typeof declared === 'string' ? declared : header;
  if (DOCKER_SCHEMA1.includes(mediaType) || (doc as { schemaVersion?: unknown } | null)?.schemaVersion === 1)
    throw new RegistryProtocolError(
      `${client.name} is a Docker schema 1 image, which is deprecated and not supported: push it again with a current client`,
    );
  return { mediaType, digest, bytes, doc };
}

function parse<S extends v.GenericSchema>(schema: S, raw: Raw, client: RegistryClient): v.InferOutput<S> {
  const r = v.safeParse(schema, raw.doc);
  if (!r.success) {
    const issue = r.issues[0];
    const where = issue ? v.getDotPath(issue) : undefined;
    throw new RegistryProtocolError(
      `the manifest ${raw.digest} of ${client.name} is not valid${where ? ` at ${escapeControl(where)}` : ''}: ${escapeControl(issue?.message ?? '')}`,
    );
  }
  return r.output;
}

/** The image's manifest, through its index if the reference names one; `platforms` lists what an index had. */
export async function resolveManifest(client: RegistryClient): Promise<FetchedManifest> {
  const ref = client.ref;
  let raw = await fetchRaw(client, ref.digest ?? ref.tag ?? 'latest', ref.digest);
  if (INDEX_TYPES.includes(raw.mediaType)) {
    const index = parse(indexSchema, raw, client);
    const pick = index.manifests.find(
      (m) => m.platform?.os === 'linux' && m.platform.architecture === 'amd64' && MANIFEST_TYPES.includes(m.mediaType),
    );
    if (!pick) {
      const have = index.manifests.map((m) =>
        m.platform ? [m.platform.os, m.platform.architecture, m.platform.variant].filter(Boolean).join('/') : '?',
      );
      throw new RegistryNoPlatformError(
        `${client.name} (index ${raw.digest}) has no linux/amd64 image, only ${escapeControl(have.join(', ') || 'none')}; VirtualGhost runs linux/amd64 guests`,
      );
    }
    raw = await fetchRaw(client, pick.digest, pick.digest);
  }
  if (!MANIFEST_TYPES.includes(raw.mediaType))
    throw new RegistryProtocolError(
      `${client.name} (${raw.digest}) is a ${escapeControl(raw.mediaType || 'manifest of no media type')}, not a container image manifest`,
    );
  const manifest = parse(manifestSchema, raw, client);
  if (!CONFIG_TYPES.includes(manifest.config.mediaType))
    throw new RegistryProtocolError(
      `${client.name} (${raw.digest}) is not a container image: its config is ${escapeControl(manifest.config.mediaType)}`,
    );
  for (const layer of manifest.layers)
    if (!LAYER_TYPES.includes(layer.mediaType))
      throw new RegistryProtocolError(
        `${client.name} (${raw.digest}): layer ${layer.digest} has media type ${escapeControl(layer.mediaType)}, which is not a layer VirtualGhost can unpack (tar, tar+gzip, tar+zstd)`,
      );
  return { mediaType: raw.mediaType, digest: raw.digest, bytes: raw.bytes, manifest };
}

/** A single-platform manifest has no platform of its own: its config says what it was built for. */
export function checkConfigPlatform(client: RegistryClient, manifestDigest: string, config: Buffer): void {
  let doc: { os?: unknown; architecture?: unknown };
  try {
    doc = JSON.parse(config.toString('utf8')) as typeof doc;
  } catch {
    throw new RegistryProtocolError(`the config of ${client.name} (${manifestDigest}) is not JSON`);
  }
  if (doc.os !== 'linux' || doc.architecture !== 'amd64')
    throw new RegistryNoPlatformError(
      `${client.name} (${manifestDigest}) is a ${escapeControl(String(doc.os))}/${escapeControl(String(doc.architecture))} image, not linux/amd64; VirtualGhost runs linux/amd64 guests`,
    );
}
