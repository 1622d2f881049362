/** How `image ls` names where an image came from: its recipe, or the OCI reference and manifest digest. */
import type { CachedImage } from './cache.js';

export function imageSourceText(image: CachedImage): string {
  const s = image.manifest.source;
  if (s) return `${s.kind === 'registry' ? '' : `${s.kind}:`}${s.ref}@${s.manifestDigest}`;
  const extra = image.manifest.recipe.extraPackages ?? [];
  return `recipe ${image.manifest.recipe.suite}${extra.length ? ` +${extra.join(',')}` : ''}`;
}
