// Bundles the host CLI (dist/host/cli/main.js and every module it may load) into one CommonJS file beside
// it, which bin/virtualghost.js runs with a V8 code cache (src/host/cli/bundle-loader.ts). It sits at the
// same depth as the modules, so their `new URL('../../../bin/…', import.meta.url)` paths still resolve.
// node-pty, cpu-features and native addons stay outside; an addon is required by its package path, so
// Node finds it wherever npm put that package.
import { build } from 'esbuild';
import { readFileSync, renameSync, utimesSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}/dist/host/cli/main.bundle.cjs`;
const result = await build({
  stdin: {
    contents: "export { main } from './dist/host/cli/main.js';",
    resolveDir: root,
    sourcefile: 'cli-bundle.js',
  },
  outfile: out,
  write: false,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['node-pty', 'cpu-features'],
  plugins: [
    {
      name: 'addons-by-package-path',
      setup(b) {
        b.onResolve({ filter: /\.node$/ }, (a) => {
          const file = resolve(a.resolveDir, a.path);
          const at = file.lastIndexOf('/node_modules/');
          if (at < 0) return { errors: [{ text: `${a.path}: a native addon outside node_modules` }] };
          return { path: file.slice(at + '/node_modules/'.length), external: true };
        });
      },
    },
  ],
  banner: { js: "const __vgImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  define: { 'import.meta.url': '__vgImportMetaUrl' },
  logLevel: 'warning',
  legalComments: 'none',
});

// Atomically, and only when it changed: CLIs started meanwhile (a test suite running while `npm pack`'s
// prepack rebuilds) read the old bundle or the new one, never half of one. An unchanged bundle is only
// touched, so bin/virtualghost.js still sees it as newer than the tsc build that just ran.
const code = result.outputFiles[0].contents;
let same = false;
try {
  same = Buffer.compare(readFileSync(out), code) === 0;
} catch {
  // not built yet
}
if (same) utimesSync(out, new Date(), new Date());
else {
  const tmp = `${out}.tmp-${process.pid}`;
  writeFileSync(tmp, code);
  renameSync(tmp, out);
}
