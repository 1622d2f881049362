#!/usr/bin/env node
// `npm start`: set up whatever is missing (scripts/setup.mjs says what and why), then open a shell in a
// fresh microVM. Arguments after `npm start --` go to `virtualghost run` (e.g. `npm start -- --raw`).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const setup = spawnSync(process.execPath, ['scripts/setup.mjs'], { cwd: root, stdio: 'inherit' });
if (setup.status !== 0) process.exit(setup.status ?? 1);
const run = spawnSync(process.execPath, ['bin/virtualghost.js', 'run', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(run.status ?? (run.signal ? 128 : 1));
