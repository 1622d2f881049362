/**
 * The per-session client key: Ed25519, generated in memory for one VM session, never written out (a named
 * VM's is, into its 0700 dir, for OpenSSH). No ssh2 here: a session makes its keys while ssh2 still loads.
 */
import { generateEd25519, type OpenSshKeyPair } from '../../shared-node/openssh-ed25519.js';

export interface ClientKey {
  /** OpenSSH private key text, for ssh2's `privateKey`. */
  privateKey: string;
  /** `ssh-ed25519 AAAA...`, what the agent is told to accept. */
  publicOpenSsh: string;
}

export function generateClientKey(): ClientKey {
  const { privatePem, publicOpenSsh } = generateEd25519('virtualghost-session');
  return { privateKey: privatePem, publicOpenSsh };
}

/**
 * A host key for a snapshot's clone (or template) to serve, made here rather than in the guest: the clone
 * skips key generation on its cold code paths, and the host knows the key to pin before the guest runs.
 * It goes to the guest over the control stream and nowhere else.
 */
export function generateGuestHostKey(): OpenSshKeyPair {
  return generateEd25519('ghostly-agent');
}

/** The raw public key blob of an OpenSSH public key line, what ssh2's hostVerifier receives. */
export function keyBlob(publicOpenSsh: string): Buffer {
  return Buffer.from(publicOpenSsh.trim().split(/\s+/)[1] ?? '', 'base64');
}
