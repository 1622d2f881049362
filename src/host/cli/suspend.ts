/**
 * `suspend NAME…`: saves running kept VMs as they run and stops them (`stop NAME` does the same for a
 * kept VM); `run NAME` or `attach NAME` resumes them. A VM without a kept disk is refused: its disk goes
 * with `stop`, so there would be nothing to resume it on.
 */
import { SupervisorStateError } from '../supervisor/errors.js';
import { requireVm } from '../supervisor/registry.js';
import { StoreVmNotRunningError } from '../store/errors.js';
import { ghostPaths } from '../store/paths.js';
import { notice } from './context.js';
import { stopVm } from './stop.js';

export async function suspendCommand(names: string[]): Promise<number> {
  const paths = ghostPaths();
  for (const name of names) {
    const entry = requireVm(paths, name);
    if (entry.state === 'stopped') {
      if (entry.savedStateBytes === undefined)
        throw new StoreVmNotRunningError(
          `VM ${name} is stopped without a saved state; \`virtualghost run ${name}\` boots its disk`,
        );
      notice(`${name} is already suspended`);
      continue;
    }
    if (entry.state === 'dead')
      throw new StoreVmNotRunningError(
        `VM ${name} died (its supervisor is gone); \`virtualghost clean\` removes what is left`,
      );
    if (!entry.supervised || entry.record?.keep !== true)
      throw new SupervisorStateError(
        `VM ${name} has no kept disk to resume on (start it with \`virtualghost run ${name} --keep\`); \`virtualghost stop ${name}\` ends it`,
      );
    await stopVm(paths, name);
    if (requireVm(paths, name).savedStateBytes === undefined)
      throw new SupervisorStateError(
        `VM ${name} stopped, but its running state could not be saved (see \`virtualghost logs ${name}\`); its disk is kept`,
      );
    process.stdout.write(`${name}\n`);
  }
  return 0;
}
