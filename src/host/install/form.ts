/**
 * Which way this copy of VirtualGhost was installed. It decides what doctor tells the user to install
 * and how: a checkout has `npm start` (scripts/setup.mjs) and needs the test tools too; an npm package
 * has only what its `files` list shipped. Decided from the package's own files, never from the cwd.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../image/project-files.js';
import { isSingleExecutable } from '../sea/embedded.js';

export type InstallForm = 'checkout' | 'npm-package' | 'single-executable';

export const INSTALL_FORM_NAMES: Record<InstallForm, string> = {
  checkout: 'source checkout',
  'npm-package': 'npm package',
  'single-executable': 'single executable',
};

/**
 * A checkout has its TypeScript sources and tsconfig beside dist/; the npm package's `files` whitelist
 * ships neither, so their absence is a marker the packer cannot forget to write.
 */
export function installForm(root?: string): InstallForm {
  if (root === undefined && isSingleExecutable()) return 'single-executable';
  root ??= packageRoot();
  return existsSync(join(root, 'src', 'host', 'cli', 'main.ts')) && existsSync(join(root, 'tsconfig.json'))
    ? 'checkout'
    : 'npm-package';
}
