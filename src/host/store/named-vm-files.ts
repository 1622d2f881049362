/**
 * Files a supervised (named) VM keeps in its per-VM dir for clients other than the supervisor itself:
 * the per-VM client key and the pinned host key, in OpenSSH formats (so OpenSSH can use them too).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const NAMED_VM_FILES = {
  relaySocket: 'ssh.sock',
  clientKey: 'client_ed25519',
  clientPublicKey: 'client_ed25519.pub',
  knownHosts: 'known_hosts',
} as const;

export const hostAlias = (name: string): string => `virtualghost-${name}`;

export function writeNamedVmFiles(dir: string, f: { name: string; clientPrivateKey: string; clientPublicKey: string; hostKey: string }): void {
  writeFileSync(join(dir, NAMED_VM_FILES.clientKey), f.clientPrivateKey, { mode: 0o600 });
  writeFileSync(join(dir, NAMED_VM_FILES.clientPublicKey), `${f.clientPublicKey}\n`, { mode: 0o600 });
  writeFileSync(join(dir, NAMED_VM_FILES.knownHosts), `${hostAlias(f.name)} ${f.hostKey}\n`, { mode: 0o600 });
}
