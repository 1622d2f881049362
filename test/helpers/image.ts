/** The guest image the CLI and bootVm() use (the current recipe's), for comparing guest facts against. */
import { loadConfig } from '../../src/host/config/load.js';
import type { CachedImage } from '../../src/host/image/cache.js';
import { resolveImage } from '../../src/host/session.js';
import { ghostPaths } from '../../src/host/store/paths.js';

export async function currentImage(): Promise<CachedImage> {
  const paths = ghostPaths();
  return await resolveImage({
    config: loadConfig(paths.configFile, process.env),
    paths,
    signal: AbortSignal.timeout(60_000),
  });
}
