/**
 * Saving a kept VM as it runs when it is stopped (`stop NAME`, `suspend NAME`), so that `run NAME` resumes
 * it (vm/suspend.ts, saved-state.ts). Before the save the session's SSH connection and control stream are
 * closed, as a template's are: nothing of this host's connections is in flight inside the saved guest, and
 * the resumed agent answers a new host as it answers any.
 */
import type ssh2 from 'ssh2';
import { errorMessage } from '../../shared/errors.js';
import type { VmSession } from '../session.js';
import type { GhostPaths } from '../store/paths.js';
import { canResume, canSuspend } from '../vm/suspend.js';
import { recordSavedState, removeSavedState, savedStatePaths, type SavedStateMeta } from './saved-state.js';

/** How long the guest gets to see its host connections close before it is saved. */
const SETTLE_MS = 300;

export interface SuspendKeys {
  clientPrivateKey: string;
  clientPublicKey: string;
}

/** Saves the VM into its kept dir; on any failure no state is left and undefined is returned (the disk is kept). */
export async function suspendSession(
  s: VmSession,
  paths: GhostPaths,
  keys: SuspendKeys,
  log: (line: string) => void,
): Promise<SavedStateMeta | undefined> {
  const factory = s.choice.factory;
  const driver = s.driver;
  if (!canResume(factory) || !canSuspend(driver) || !s.hostKey) {
    log(`the ${factory.name} backend cannot save a running VM: stopped without a saved state`);
    return undefined;
  }
  const started = Date.now();
  try {
    const identity = await factory.resumeIdentity(s.spec, driver.accel);
    if (s.ssh) await endSsh(s.ssh);
    s.control?.close();
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    removeSavedState(paths, s.name);
    await driver.suspendTo(savedStatePaths(paths, s.name).state);
    const meta = await recordSavedState(paths, s.name, {
      backend: driver.backend,
      identity,
      imageId: s.image.id,
      vcpus: s.spec.vcpus,
      memoryMiB: s.spec.memoryMiB,
      net: s.spec.net ?? 'none',
      clientPrivateKey: keys.clientPrivateKey,
      clientPublicKey: keys.clientPublicKey,
      hostKey: s.hostKey.trim().split(/\s+/).slice(0, 2).join(' '),
    });
    log(`saved the running VM (${meta.stateBytes} bytes) in ${Date.now() - started} ms: \`run ${s.name}\` resumes it`);
    return meta;
  } catch (err) {
    removeSavedState(paths, s.name);
    log(`could not save the running VM (${errorMessage(err)}): stopped without a saved state; its disk is kept`);
    return undefined;
  }
}

/** Ends the SSH connection and waits (briefly) until it is closed. */
async function endSsh(ssh: ssh2.Client): Promise<void> {
  await new Promise<void>((resolve) => {
    const t = setTimeout(resolve, 2000);
    ssh.once('close', () => {
      clearTimeout(t);
      resolve();
    });
    ssh.end();
  });
}
