/** `exec` without a command in an image converted from OCI: its Entrypoint followed by its Cmd, as `docker run` does. */
import { ImageSourceError } from '../errors.js';
import { shellQuote } from '../../shell-quote.js';
import type { CachedImage } from '../cache.js';
import { parseImageSource } from './image-source.js';

/** Whether `image` (the config value) can supply a command: only an OCI image can (checked before any boot). */
export function imageMayHaveCommand(image: string): boolean {
  const kind = parseImageSource(image)?.kind;
  return kind === 'oci' || kind === 'docker-archive' || kind === 'registry' || kind === 'id';
}

export function imageCommand(image: CachedImage): string {
  const config = image.manifest.source?.config;
  const argv = [...(config?.Entrypoint ?? []), ...(config?.Cmd ?? [])];
  if (argv.length === 0)
    throw new ImageSourceError(
      `exec needs a command after \`--\`: image ${image.id}${image.manifest.source ? ` (${image.manifest.source.ref})` : ''} has no Entrypoint or Cmd`,
    );
  return shellQuote(argv);
}
