#!/usr/bin/env node
// Entry point: the compiled CLI lives in dist/ (`npm run build`; `npm start` builds it for you). It runs as
// one bundle with a V8 code cache when that bundle is current, else as the modules tsc built
// (dist/host/cli/bundle-loader.js says when and why).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist', import.meta.url));
const modules = new URL('../dist/host/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(modules))) {
  process.stderr.write(
    'virtualghost: not built yet: run `npm run build` (or `npm start`, which builds and sets up everything)\n',
  );
  process.exit(70);
}
const loader = await import(new URL('../dist/host/cli/bundle-loader.js', import.meta.url).href);
const choice = loader.chooseBundle(dist);
let run;
if ('bundle' in choice) run = loader.loadBundle(choice.bundle).main;
else {
  loader.noteModules(choice.reason);
  run = (await import(modules.href)).main;
}
process.exitCode = await run(process.argv);
