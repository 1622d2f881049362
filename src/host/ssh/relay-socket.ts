/**
 * The client end of a named VM's SSH relay (ssh.sock). Kept apart from the ssh2 client so that `proxy`,
 * which OpenSSH starts for every connection, does not load ssh2.
 */
import { connect, type Socket } from 'node:net';
import type { NamedVmFiles } from '../store/named-vm-files.js';
import { SshConnectError } from './errors.js';

/** A raw byte stream to the VM's relay: its own SSH connection to the guest agent, not yet spoken. */
export async function connectRelay(files: NamedVmFiles): Promise<Socket> {
  return await new Promise<Socket>((resolve, reject) => {
    const s = connect(files.relaySocket);
    s.once('connect', () => {
      s.removeListener('error', reject);
      resolve(s);
    });
    s.once('error', (err) =>
      reject(
        new SshConnectError(
          `cannot connect to VM ${files.name}'s SSH relay ${files.relaySocket}: ${err.message}; see \`virtualghost ps\``,
          { cause: err },
        ),
      ),
    );
  });
}
