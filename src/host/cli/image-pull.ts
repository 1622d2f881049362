/** `virtualghost image pull REF [--json]`: a registry image into the layer cache, as an OCI image layout. */
import { pullImage } from '../image/registry/pull.js';
import { cliContext } from './context.js';
import { isQuiet } from './output.js';
import { pullProgressPrinter } from './progress.js';
import { abortOnSignals } from './signals-abort.js';

export async function imagePull(reference: string, opts: { json?: boolean }): Promise<number> {
  const { paths, config } = cliContext();
  const pulled = await abortOnSignals((signal) =>
    pullImage(reference, {
      signal,
      onProgress: pullProgressPrinter(),
      cacheDir: paths.cacheDir,
      insecureRegistries: config.values['image.insecure_registries'],
    }),
  ).catch((err: unknown) => {
    // The error goes on a line of its own, not after a half-drawn progress bar.
    if (process.stderr.isTTY && !isQuiet()) process.stderr.write('\r\x1b[2K');
    throw err;
  });
  if (opts.json) process.stdout.write(`${JSON.stringify(pulled, null, 2)}\n`);
  else process.stdout.write(`${pulled.reference}  ${pulled.manifestDigest}  ${pulled.layoutDir}\n`);
  return 0;
}
