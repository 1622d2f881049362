/**
 * The one place a registry reference becomes an OCI layout: the registry client
 * (src/host/image/registry/, `pullImage`) pulls it into the layer cache and hands on the layout of its
 * linux/amd64 manifest; progress goes out as a line at the start, every quarter and at the end.
 */
import { pullImage, type PullProgress } from '../registry/pull.js';

export interface PulledImage {
  layoutDir: string;
  manifestDigest: string;
}

export async function pullRegistryImage(
  ref: string,
  opts: { cacheDir: string; signal?: AbortSignal; onProgress?: (line: string) => void },
): Promise<PulledImage> {
  let lastQuarter = -1;
  const onProgress = (p: PullProgress): void => {
    if (!opts.onProgress) return;
    const mb = (n: number): string => (n / 1e6).toFixed(1);
    if (p.phase === 'manifest') return opts.onProgress(`pulling ${p.reference}`);
    const quarter = p.phase === 'done' ? 4 : Math.floor((p.totalBytes ? p.doneBytes / p.totalBytes : 0) * 4);
    if (quarter === lastQuarter) return;
    lastQuarter = quarter;
    opts.onProgress(`pulling ${p.reference} ${mb(p.doneBytes)}/${mb(p.totalBytes)} MB`);
  };
  const pulled = await pullImage(ref, {
    cacheDir: opts.cacheDir,
    onProgress,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  return { layoutDir: pulled.layoutDir, manifestDigest: pulled.manifestDigest };
}
