/** `rm NAME…`: deletes stopped VMs' kept disks and logs (`run --keep`). A running VM must be stopped first. */
import { SupervisorStateError } from '../supervisor/errors.js';
import { removeKept } from '../supervisor/kept.js';
import { requireVm } from '../supervisor/registry.js';
import { validateVmName } from '../store/instance-dir.js';
import { ghostPaths } from '../store/paths.js';
import { stopVm } from './stop.js';

export async function rmCommand(names: string[], opts: { force?: boolean }): Promise<number> {
  const paths = ghostPaths();
  for (const name of names) {
    const entry = requireVm(paths, validateVmName(name));
    if (entry.state !== 'stopped' && entry.state !== 'dead') {
      if (!opts.force)
        throw new SupervisorStateError(
          `VM ${name} is ${entry.state}; \`virtualghost stop ${name}\` first (or \`rm --force\`)`,
        );
    }
    if (entry.state !== 'stopped') await stopVm(paths, name);
    removeKept(paths, name);
    process.stdout.write(`${name}\n`);
  }
  return 0;
}
