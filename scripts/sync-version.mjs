#!/usr/bin/env node
// package.json's "version" is the one home of the product version. The guest agent is bundled and
// cannot read package.json inside the VM, so src/shared/version.ts carries a copy: `npm version`
// runs this to rewrite it, and test/spine/cli-output.test.ts fails if the two ever disagree.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const { version } = JSON.parse(readFileSync(`${root}/package.json`, 'utf8'));
const file = `${root}/src/shared/version.ts`;
const before = readFileSync(file, 'utf8');
const after = before.replace(
  /^export const PRODUCT_VERSION = '[^']*';/m,
  `export const PRODUCT_VERSION = '${version}';`,
);
if (!after.includes(`'${version}'`)) throw new Error(`${file}: no PRODUCT_VERSION line to rewrite`);
writeFileSync(file, after);
