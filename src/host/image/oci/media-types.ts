/** The OCI and Docker (v2 schema 2) media types an image layout or `docker save` archive may use. */
import { ImageSourceError } from '../errors.js';

export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar';
export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

export const INDEX_TYPES: readonly string[] = [OCI_INDEX, DOCKER_LIST];
export const MANIFEST_TYPES: readonly string[] = [OCI_MANIFEST, DOCKER_MANIFEST];

const LAYER_TYPES: Record<string, 'none' | 'gzip' | 'zstd'> = {
  [OCI_LAYER]: 'none',
  [`${OCI_LAYER}+gzip`]: 'gzip',
  [`${OCI_LAYER}+zstd`]: 'zstd',
  'application/vnd.oci.image.layer.nondistributable.v1.tar': 'none',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip': 'gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd': 'zstd',
  'application/vnd.docker.image.rootfs.diff.tar.gzip': 'gzip',
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip': 'gzip',
};

export function layerCompression(mediaType: string, digest: string): 'none' | 'gzip' | 'zstd' {
  const c = LAYER_TYPES[mediaType];
  if (c === undefined)
    throw new ImageSourceError(
      `layer ${digest} has media type ${JSON.stringify(mediaType)}, which is not an image layer this version reads (${Object.keys(LAYER_TYPES).join(', ')})`,
    );
  return c;
}
