/**
 * Reads an OCI image layout directory (oci-layout, index.json, blobs/<alg>/<hex>): picks the one
 * linux/amd64 image manifest (or the one named by digest), and checks every blob it needs against its
 * digest and size before anything is extracted. Docker's v2 schema 2 media types are read as well.
 */
import { createHash } from 'node:crypto';
import { createReadStream, lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImageSourceError } from '../errors.js';
import type { LayerBlob } from './apply-layer.js';
import { INDEX_TYPES, MANIFEST_TYPES } from './media-types.js';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os?: string; architecture?: string };
}

/** The parts of an image config the guest honours (image-spec config.md, `config` object). */
export interface ImageRunConfig {
  Env?: string[];
  WorkingDir?: string;
  User?: string;
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
}

export interface OciImage {
  layoutDir: string;
  manifestDigest: string;
  config: ImageRunConfig;
  layers: LayerBlob[];
}

const DIGEST = /^sha256:([a-f0-9]{64})$/;

/** Checked before a digest is joined into a path: only sha256 and exactly 64 hex digits. */
export function blobPath(layoutDir: string, digest: string, what: string): string {
  const m = DIGEST.exec(digest);
  if (!m) throw new ImageSourceError(`${what} has digest ${JSON.stringify(digest)}, not sha256:<64 hex digits>`);
  return join(layoutDir, 'blobs', 'sha256', m[1] as string);
}

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ImageSourceError(`${what}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ImageSourceError(`${what}: ${path} is not valid JSON`);
  }
}

function descriptors(doc: unknown, key: 'manifests' | 'layers', where: string): Descriptor[] {
  const list = (doc as Record<string, unknown> | null)?.[key];
  if (!Array.isArray(list)) throw new ImageSourceError(`${where} has no "${key}" list`);
  return list.map((d, i) => descriptor(d, `${where} ${key}[${i}]`));
}

function descriptor(d: unknown, where: string): Descriptor {
  const o = d as Partial<Descriptor> | null;
  if (typeof o?.mediaType !== 'string' || typeof o.digest !== 'string' || typeof o.size !== 'number')
    throw new ImageSourceError(`${where} is not a descriptor (mediaType, digest, size)`);
  return o as Descriptor;
}

/** Reads a blob whole after checking it is a regular file of the size and digest its descriptor says. */
function readBlob(layoutDir: string, d: Descriptor, what: string): Buffer {
  const path = blobPath(layoutDir, d.digest, what);
  checkBlobFile(path, d, what);
  const data = readFileSync(path);
  const got = `sha256:${createHash('sha256').update(data).digest('hex')}`;
  if (got !== d.digest) throw digestMismatch(what, d.digest, got, path);
  return data;
}

function jsonBlob(layoutDir: string, d: Descriptor, what: string): unknown {
  const data = readBlob(layoutDir, d, what);
  try {
    return JSON.parse(data.toString('utf8')) as unknown;
  } catch {
    throw new ImageSourceError(`${what} ${d.digest} in ${layoutDir} is not valid JSON`);
  }
}

function checkBlobFile(path: string, d: Descriptor, what: string): void {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    throw new ImageSourceError(`${what} ${d.digest}: blob ${path} is missing`);
  }
  if (!st.isFile()) throw new ImageSourceError(`${what} ${d.digest}: blob ${path} is not a regular file`);
  if (st.size !== d.size)
    throw new ImageSourceError(`${what} ${d.digest}: blob ${path} is ${st.size} bytes; its descriptor says ${d.size}`);
}

const digestMismatch = (what: string, want: string, got: string, path: string): ImageSourceError =>
  new ImageSourceError(`${what} ${want}: blob ${path} does not match its digest (its content hashes to ${got})`);

export async function verifyBlob(layoutDir: string, d: Descriptor, what: string): Promise<string> {
  const path = blobPath(layoutDir, d.digest, what);
  checkBlobFile(path, d, what);
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  const got = `sha256:${h.digest('hex')}`;
  if (got !== d.digest) throw digestMismatch(what, d.digest, got, path);
  return path;
}

const isAmd64 = (d: Descriptor): boolean =>
  d.platform === undefined || (d.platform.os === 'linux' && d.platform.architecture === 'amd64');

/** The image manifest to use: `digest` if given, else the one linux/amd64 manifest (through nested indexes). */
function pickManifest(layoutDir: string, digest: string | undefined): Descriptor {
  if (lstatOrNull(join(layoutDir, 'oci-layout')) === null)
    throw new ImageSourceError(`${layoutDir} is not an OCI image layout: it has no oci-layout file`);
  let list = descriptors(readJson(join(layoutDir, 'index.json'), 'OCI layout'), 'manifests', `${layoutDir}/index.json`);
  for (let depth = 0; depth < 4; depth++) {
    if (digest !== undefined) {
      const named = list.find((d) => d.digest === digest);
      if (named && MANIFEST_TYPES.includes(named.mediaType)) return named;
    }
    const nested = list.filter((d) => INDEX_TYPES.includes(d.mediaType));
    const manifests = list.filter((d) => MANIFEST_TYPES.includes(d.mediaType) && isAmd64(d));
    if (digest === undefined && manifests.length === 1 && nested.length === 0) return manifests[0] as Descriptor;
    if (digest === undefined && manifests.length > 1)
      throw new ImageSourceError(
        `${layoutDir} has ${manifests.length} linux/amd64 image manifests (${manifests.map((m) => m.digest).join(', ')}): name one as oci:${layoutDir}@DIGEST`,
      );
    if (nested.length === 0) break;
    list = nested.flatMap((n) => descriptors(jsonBlob(layoutDir, n, 'index'), 'manifests', `index ${n.digest}`));
  }
  throw new ImageSourceError(
    digest !== undefined
      ? `${layoutDir} has no image manifest ${digest}`
      : `${layoutDir} has no linux/amd64 image manifest (the platforms it has are not this machine's)`,
  );
}

function lstatOrNull(path: string): ReturnType<typeof lstatSync> | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

/** The digest of the image manifest `readOciImage` would use, without reading its layers. */
export function manifestDigestOf(layoutDir: string, digest?: string): string {
  return pickManifest(layoutDir, digest).digest;
}

export async function readOciImage(layoutDir: string, digest?: string): Promise<OciImage> {
  const m = pickManifest(layoutDir, digest);
  const manifest = jsonBlob(layoutDir, m, 'manifest');
  const configDesc = descriptor((manifest as { config?: unknown } | null)?.config, `manifest ${m.digest} config`);
  const config = jsonBlob(layoutDir, configDesc, 'config') as { config?: ImageRunConfig } | null;
  const layers: LayerBlob[] = [];
  for (const l of descriptors(manifest, 'layers', `manifest ${m.digest}`))
    layers.push({ digest: l.digest, mediaType: l.mediaType, path: await verifyBlob(layoutDir, l, 'layer') });
  return { layoutDir, manifestDigest: m.digest, config: runConfig(config?.config), layers };
}

/** Only well-typed fields are kept: the config is input, and the guest profile is built from it. */
function runConfig(c: ImageRunConfig | undefined): ImageRunConfig {
  const strings = (v: unknown): string[] | undefined =>
    Array.isArray(v) && v.every((s) => typeof s === 'string') ? (v as string[]) : undefined;
  const out: ImageRunConfig = {};
  const env = strings(c?.Env);
  if (env) out.Env = env;
  if (typeof c?.WorkingDir === 'string' && c.WorkingDir !== '') out.WorkingDir = c.WorkingDir;
  if (typeof c?.User === 'string' && c.User !== '') out.User = c.User;
  const ep = strings(c?.Entrypoint);
  if (ep) out.Entrypoint = ep;
  const cmd = strings(c?.Cmd);
  if (cmd) out.Cmd = cmd;
  return out;
}
