/**
 * How to run this CLI again (a VM's supervisor, ssh's ProxyCommand): `node bin/virtualghost.js` from a
 * checkout or the npm package, or the single executable alone — its process.execPath is the CLI.
 */
import { fileURLToPath } from 'node:url';
import { isSingleExecutable } from '../sea/embedded.js';

export function selfCommand(): [string, ...string[]] {
  if (isSingleExecutable()) return [process.execPath];
  return [process.execPath, fileURLToPath(new URL('../../../bin/virtualghost.js', import.meta.url))];
}
