/**
 * A running named VM for tests, reachable the way users reach one: `<vmsDir>/<name>/` with ssh.sock (the
 * relay), the per-VM client key and known_hosts. For now it is built in-process (boot as bootVm() does, but
 * with the per-VM key → writeNamedVmFiles → serveSshRelay), as the supervisor will do; once `run NAME --detach` exists this
 * helper starts that instead, and tests keep to this interface.
 */
import { loadConfig } from '../../src/host/config/load.js';
import { VmSession } from '../../src/host/session.js';
import { generateClientKey } from '../../src/host/ssh/keys.js';
import { namedVmFiles, writeNamedVmFiles } from '../../src/host/store/named-vm-files.js';
import { ghostPaths } from '../../src/host/store/paths.js';
import { serveSshRelay } from '../../src/host/supervisor/ssh-relay.js';

export interface NamedVm {
  name: string;
  stop(): Promise<void>;
}

export async function startNamedVm(name: string): Promise<NamedVm> {
  const paths = ghostPaths();
  const config = loadConfig(paths.configFile, process.env, { accel: 'tcg' });
  const key = generateClientKey();
  const session = await VmSession.start({ config, paths, signal: new AbortController().signal, name, clientKey: key });
  let relay: Awaited<ReturnType<typeof serveSshRelay>> | undefined;
  try {
    if (!session.hostKey) throw new Error('the session has no pinned host key');
    writeNamedVmFiles(session.dir.path, { name, clientPrivateKey: key.privateKey, clientPublicKey: key.publicOpenSsh, hostKey: session.hostKey });
    relay = await serveSshRelay({ socketPath: namedVmFiles(session.dir.path, name).relaySocket, pool: session.driver.sshPool() });
  } catch (err) {
    await session.close();
    throw err;
  }
  let stopping: Promise<void> | undefined;
  return {
    name,
    stop: () =>
      (stopping ??= (async () => {
        await relay?.close();
        await session.close();
      })()),
  };
}
