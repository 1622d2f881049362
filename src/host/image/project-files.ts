/** Files of this project that go into the guest image, found relative to the package root. */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: the nearest ancestor of this module that has a package.json (works from src/ and dist/). */
export function packageRoot(): string {
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
    agentLoader: join(root, 'dist', 'agent', 'ghostly-agent-loader.cjs'),
    helperSource: join(root, 'guest-image', 'ghostly-helper.c'),
    guestInit: join(root, 'guest-image', 'init.sh'),
    initramfsInit: join(root, 'guest-image', 'initramfs-init.sh'),
    nodePtyDir: nodePtyDir(),
  };
}

/**
 * node-pty's directory as Node resolves it from here: inside a checkout it is root/node_modules, but
 * npm may hoist it beside the installed package (`npm install --prefix`, npx), so no fixed path works.
 */
export function nodePtyDir(): string {
  return dirname(createRequire(import.meta.url).resolve('node-pty/package.json'));
}
