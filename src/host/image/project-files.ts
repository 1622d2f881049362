/** Files of this project that go into the guest image, found relative to the package root. */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GUEST_NODE_PATH } from '../sea/embedded.js';
import { extractedAssetsRoot } from '../sea/extract-assets.js';

/**
 * The package root: the nearest ancestor of this module that has a package.json (works from src/ and
 * dist/). In the single executable, the dir its assets are extracted to, which has the same layout.
 */
export function packageRoot(): string {
  const extracted = extractedAssetsRoot();
  if (extracted !== null) return extracted;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the virtualghost package root');
    dir = up;
  }
  return dir;
}

export function projectFiles(root = packageRoot()) {
  return {
    agentBundle: join(root, 'dist', 'agent', 'ghostly-agent.cjs'),
    helperSource: join(root, 'guest-image', 'ghostly-helper.c'),
    guestInit: join(root, 'guest-image', 'init.sh'),
    initramfsInit: join(root, 'guest-image', 'initramfs-init.sh'),
    nodePtyDir: nodePtyDir(root),
    nodeRuntime: guestNodeRuntime(root),
  };
}

/**
 * The Node runtime copied into the guest: the one running us (the agent's node-pty addon is built
 * against it), or in the single executable, whose process.execPath is itself, the plain node it carries.
 */
function guestNodeRuntime(root: string): string {
  return extractedAssetsRoot() !== null ? join(root, GUEST_NODE_PATH) : process.execPath;
}

/** Which of node-pty's lib/ files the guest gets (the payload) and the single executable carries. */
export function isShippedNodePtyFile(path: string): boolean {
  return !path.endsWith('.test.js') && !path.endsWith('.map');
}

/**
 * node-pty's directory as Node resolves it from here: inside a checkout it is root/node_modules, but
 * npm may hoist it beside the installed package (`npm install --prefix`, npx), so no fixed path works.
 */
export function nodePtyDir(root = packageRoot()): string {
  if (extractedAssetsRoot() !== null) return join(root, 'node_modules', 'node-pty');
  return dirname(createRequire(import.meta.url).resolve('node-pty/package.json'));
}
