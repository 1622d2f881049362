/** What manifest.json records of an image converted from OCI (image ls shows it; exec uses its config). */
import type { ImageRunConfig } from './layout.js';

export interface ImageOrigin {
  kind: 'oci' | 'docker-archive' | 'registry';
  /** As the user named it (a path made absolute). */
  ref: string;
  manifestDigest: string;
  config: ImageRunConfig;
  /** The Debian image whose kernel, initramfs and guest side this one uses. */
  base: string;
}
