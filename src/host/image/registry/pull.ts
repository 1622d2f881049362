/**
 * `pullImage(ref)`: a registry image to a local OCI image layout (layout.ts), its blobs from the shared
 * layer cache (blob-cache.ts). The contract with the OCI converter: the layout's index.json names exactly
 * one manifest (linux/amd64), and every blob in it has been checked against its digest and size.
 */
import { readFileSync } from 'node:fs';
import { loadConfig } from '../../config/load.js';
import { ghostPaths } from '../../store/paths.js';
import { ensureRegistryDirs, fetchBlob, registryDirs } from './blob-cache.js';
import { RegistryClient } from './client.js';
import { removeAbandonedLayouts, writeLayout } from './layout.js';
import { checkConfigPlatform, resolveManifest } from './manifest.js';
import { formatReference, parseReference } from './reference.js';

export interface PullProgress {
  /** `manifest` while resolving, `blobs` while downloading, `done` at the end. */
  phase: 'manifest' | 'blobs' | 'done';
  reference: string;
  doneBytes: number;
  totalBytes: number;
}

export interface PullOptions {
  signal?: AbortSignal;
  onProgress?: (p: PullProgress) => void;
  /** Defaults: the user's cache dir, `image.insecure_registries` from the config, process.env. */
  cacheDir?: string;
  insecureRegistries?: readonly string[];
  env?: NodeJS.ProcessEnv;
}

export interface PulledImage {
  layoutDir: string;
  /** The linux/amd64 image manifest's digest (not the index's). */
  manifestDigest: string;
  /** The reference in full (`docker.io/library/debian:12`). */
  reference: string;
}

export async function pullImage(refText: string, opts: PullOptions = {}): Promise<PulledImage> {
  const ref = parseReference(refText);
  const reference = formatReference(ref);
  const env = opts.env ?? process.env;
  const insecureRegistries =
    opts.insecureRegistries ?? loadConfig(ghostPaths(env).configFile, env).values['image.insecure_registries'];
  const dirs = registryDirs(opts.cacheDir ?? ghostPaths(env).cacheDir);
  ensureRegistryDirs(dirs);
  removeAbandonedLayouts(dirs);
  const client = new RegistryClient(ref, {
    insecureRegistries,
    env,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const report = (phase: PullProgress['phase'], doneBytes: number, totalBytes: number): void =>
    opts.onProgress?.({ phase, reference, doneBytes, totalBytes });
  report('manifest', 0, 0);
  const fetched = await resolveManifest(client);
  const { config, layers } = fetched.manifest;
  const descs = [config, ...layers];
  const total = descs.reduce((n, d) => n + d.size, 0);
  let done = 0;
  const onBytes = (n: number): void => {
    done += n;
    report('blobs', done, total);
  };
  // The config first: it is small and says whether the image is linux/amd64 before layers are fetched.
  const configPath = await fetchBlob(client, dirs, config, onBytes);
  checkConfigPlatform(client, fetched.digest, readFileSync(configPath));
  const blobs = [{ desc: config, path: configPath }];
  for (const layer of layers) {
    opts.signal?.throwIfAborted();
    blobs.push({ desc: layer, path: await fetchBlob(client, dirs, layer, onBytes) });
  }
  const layoutDir = writeLayout(dirs, {
    manifest: { mediaType: fetched.mediaType, digest: fetched.digest, bytes: fetched.bytes },
    blobs,
    reference,
    ...(ref.tag !== undefined ? { refName: ref.tag } : {}),
  });
  report('done', total, total);
  return { layoutDir, manifestDigest: fetched.digest, reference };
}
