/** Boots real VMs through the session API (QEMU microvm, TCG), with config from the test environment. */
import { loadConfig } from '../../src/host/config/load.js';
import type { ConfigKey } from '../../src/host/config/schema.js';
import { VmSession } from '../../src/host/session.js';
import { ghostPaths } from '../../src/host/store/paths.js';

export async function bootVm(
  flags: Partial<Record<ConfigKey, unknown>> = {},
  name?: string,
  onNotice?: (line: string) => void,
  cold = false,
): Promise<VmSession> {
  const paths = ghostPaths();
  const config = loadConfig(paths.configFile, process.env, { accel: 'tcg', ...flags });
  return await VmSession.start({
    config,
    paths,
    signal: new AbortController().signal,
    cold,
    ...(name ? { name } : {}),
    ...(onNotice ? { onNotice } : {}),
  });
}
