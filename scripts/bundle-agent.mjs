// Bundles ghostly-agent (src/guest) and its pure-JS dependencies into one CommonJS file for the guest
// image. node-pty is native and is copied into the image beside it; ssh2's optional native crypto
// binding is left out (ssh2 falls back to Node's crypto).
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// The loader (src/guest/agent-loader.ts) is the guest's entry point: it runs the agent bundle with its
// code cache.
await build({
  entryPoints: [`${root}/src/guest/agent-loader.ts`],
  outfile: `${root}/dist/agent/ghostly-agent-loader.cjs`,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  logLevel: 'warning',
  legalComments: 'none',
});
await build({
  entryPoints: [`${root}/src/guest/main.ts`],
  outfile: `${root}/dist/agent/ghostly-agent.cjs`,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['node-pty', 'cpu-features', '*.node'],
  logLevel: 'warning',
  legalComments: 'none',
});
