/**
 * The one place a registry reference becomes an OCI layout: the registry client
 * (src/host/image/registry/, `pullImage(ref, opts)`) is wired in here. Until it is, a registry
 * reference is refused, naming it and what works instead.
 */
import { ImageSourceError } from '../errors.js';

export interface PulledImage {
  layoutDir: string;
  manifestDigest: string;
}

export async function pullRegistryImage(
  ref: string,
  _opts: { cacheDir: string; signal?: AbortSignal },
): Promise<PulledImage> {
  await Promise.resolve();
  throw new ImageSourceError(
    `image ${JSON.stringify(ref)} is a registry reference, and this build has no registry client yet: use oci:PATH (an OCI image layout, e.g. from \`skopeo copy docker://${ref} oci:DIR\`) or docker-archive:FILE.tar (\`docker save\`)`,
  );
}
