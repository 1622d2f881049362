/** The per-session client key: Ed25519, generated in memory for one VM session, never written out. */
import ssh2 from 'ssh2';

export interface ClientKey {
  /** OpenSSH private key text, for ssh2's `privateKey`. */
  privateKey: string;
  /** `ssh-ed25519 AAAA...`, what the agent is told to accept. */
  publicOpenSsh: string;
}

export function generateClientKey(): ClientKey {
  // ssh2 1.17 cannot parse about 1 in 270 of the ed25519 keys it generates itself ("Malformed OpenSSH
  // private key"); such a key would fail the session's login. Draw again until ssh2 accepts it.
  for (;;) {
    const pair = ssh2.utils.generateKeyPairSync('ed25519', { comment: 'virtualghost-session' });
    if (ssh2.utils.parseKey(pair.private) instanceof Error) continue;
    return { privateKey: pair.private, publicOpenSsh: pair.public.trim().split(' ').slice(0, 2).join(' ') };
  }
}

/** The raw public key blob of an OpenSSH public key line, what ssh2's hostVerifier receives. */
export function keyBlob(publicOpenSsh: string): Buffer {
  return Buffer.from(publicOpenSsh.trim().split(/\s+/)[1] ?? '', 'base64');
}
