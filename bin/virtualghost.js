#!/usr/bin/env node
// Entry point: the compiled CLI lives in dist/ (`npm run build`; `npm start` builds it for you).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/host/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write(
    'virtualghost: not built yet: run `npm run build` (or `npm start`, which builds and sets up everything)\n',
  );
  process.exit(70);
}
const { main: run } = await import(main.href);
const code = await run(process.argv);
process.exitCode = code;
