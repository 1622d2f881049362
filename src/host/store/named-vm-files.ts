/**
 * The files a named VM's supervisor keeps in its per-VM dir `<vmsDir>/<name>/` for clients (the contract
 * between the supervisor and `proxy`, `ssh-config`, `exec NAME`, `cp`):
 *   ssh.sock             the SSH relay (0600): each connection is its own SSH connection to the guest agent
 *   client_ed25519       the per-VM client private key, OpenSSH format (0600), and client_ed25519.pub
 *   known_hosts          one line, `virtualghost-<name> ssh-ed25519 AAAA…`: the guest's pinned host key
 * They go away with the dir when the VM does, so no key or host entry outlives it.
 */
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';
import { INSTANCE_FILES } from './instance-files.js';
import { StoreVmNotRunningError } from './errors.js';
import { assertPrivateDir, assertPrivateVmsDir } from './private-dir.js';
import { isVmName, ownerAlive, validateVmName } from './instance-dir.js';
import type { GhostPaths } from './paths.js';

export interface NamedVmFiles {
  readonly name: string;
  readonly dir: string;
  readonly relaySocket: string;
  readonly clientKey: string;
  readonly clientPublicKey: string;
  readonly knownHosts: string;
}

export interface NamedVmSecrets {
  name: string;
  /** OpenSSH-format private key text. */
  clientPrivateKey: string;
  /** `ssh-ed25519 AAAA…` (a comment after it is kept). */
  clientPublicKey: string;
  /** The guest's host key as `ssh-ed25519 AAAA…`, pinned from the control handshake. */
  hostKey: string;
}

/** The alias under which OpenSSH knows the VM: the `Host` of ssh-config and the known_hosts entry. */
export function hostAlias(name: string): string {
  return `virtualghost-${name}`;
}

export function namedVmFiles(dir: string, name: string): NamedVmFiles {
  return {
    name,
    dir,
    relaySocket: join(dir, INSTANCE_FILES.relaySocket),
    clientKey: join(dir, INSTANCE_FILES.clientKey),
    clientPublicKey: join(dir, INSTANCE_FILES.clientPublicKey),
    knownHosts: join(dir, INSTANCE_FILES.knownHosts),
  };
}

/** Writes keys and known_hosts (each atomically, 0600) for the supervisor; the relay socket is serveSshRelay's. */
export function writeNamedVmFiles(dir: string, secrets: NamedVmSecrets): NamedVmFiles {
  validateVmName(secrets.name);
  const hostKey = secrets.hostKey.trim().split(/\s+/).slice(0, 2);
  if (hostKey.length !== 2 || hostKey[0] !== 'ssh-ed25519')
    throw new TypeError(
      `the host key must be \`ssh-ed25519 AAAA…\`, got ${JSON.stringify(secrets.hostKey.slice(0, 40))}`,
    );
  const files = namedVmFiles(dir, secrets.name);
  const privateKey = secrets.clientPrivateKey.endsWith('\n')
    ? secrets.clientPrivateKey
    : `${secrets.clientPrivateKey}\n`;
  writeFileAtomic(files.clientKey, privateKey, 0o600);
  writeFileAtomic(files.clientPublicKey, `${secrets.clientPublicKey.trim()}\n`, 0o600);
  writeFileAtomic(files.knownHosts, `${hostAlias(secrets.name)} ${hostKey.join(' ')}\n`, 0o600);
  return files;
}

/**
 * A running named VM's files; throws StoreVmNotRunningError naming the VM when it has no relay or its
 * supervisor is gone (a SIGKILLed one leaves its sockets behind, and connecting to them says only "refused").
 */
export function findNamedVm(paths: GhostPaths, name: string): NamedVmFiles {
  validateVmName(name);
  assertPrivateVmsDir(paths.vmsDir);
  const dir = join(paths.vmsDir, name);
  assertPrivateDir(dir);
  const files = namedVmFiles(dir, name);
  if (!existsSync(dir))
    throw new StoreVmNotRunningError(
      `there is no VM named ${name} (no ${dir}); see \`virtualghost ps\` for running VMs`,
    );
  if (!isSocket(files.relaySocket))
    throw new StoreVmNotRunningError(
      `VM ${name} is not running as a named VM (no SSH relay at ${files.relaySocket}); see \`virtualghost ps\``,
    );
  if (!ownerAlive(dir))
    throw new StoreVmNotRunningError(
      `VM ${name} is not running: its supervisor is gone (\`virtualghost ps\` shows it dead); \`virtualghost clean\` removes what is left`,
    );
  return files;
}

/** Names of the running named VMs (relay socket present, supervisor alive), sorted. */
export function listNamedVms(paths: GhostPaths): string[] {
  assertPrivateVmsDir(paths.vmsDir);
  let names: string[];
  try {
    names = readdirSync(paths.vmsDir);
  } catch {
    return [];
  }
  return names
    .filter(
      (n) =>
        isVmName(n) &&
        isSocket(namedVmFiles(join(paths.vmsDir, n), n).relaySocket) &&
        ownerAlive(join(paths.vmsDir, n)),
    )
    .sort();
}

/** The pinned host key (`ssh-ed25519 AAAA…`) from a VM's known_hosts. */
export function readPinnedHostKey(files: NamedVmFiles): string {
  const line = readFileSync(files.knownHosts, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${hostAlias(files.name)} `));
  const key = line?.split(/\s+/).slice(1, 3);
  if (!key || key.length !== 2 || key[0] !== 'ssh-ed25519')
    throw new StoreVmNotRunningError(
      `${files.knownHosts} has no ssh-ed25519 entry for ${hostAlias(files.name)}; the VM's supervisor did not finish starting (see \`virtualghost ps\`)`,
    );
  return key.join(' ');
}

function isSocket(path: string): boolean {
  try {
    return lstatSync(path).isSocket();
  } catch {
    return false;
  }
}
