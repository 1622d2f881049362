/**
 * Ed25519 keys in OpenSSH's own private key format ("openssh-key-v1", unencrypted), from node:crypto
 * alone: ssh2 and OpenSSH read it, and making one needs neither ssh2 (~0.15 s to load on the host) nor
 * its generator (which writes ~1 in 270 keys that ssh2 then cannot parse). Host and guest both make keys,
 * and src/shared has no Node at all, hence src/shared-node.
 */
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';

export interface OpenSshKeyPair {
  /** `-----BEGIN OPENSSH PRIVATE KEY-----` text. */
  privatePem: string;
  /** `ssh-ed25519 AAAA…` (no comment). */
  publicOpenSsh: string;
}

const sshString = (b: Buffer | string): Buffer => {
  const data = typeof b === 'string' ? Buffer.from(b) : b;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  return Buffer.concat([len, data]);
};

/** PKCS#8 DER prefix of an Ed25519 private key; the 32-byte seed follows. */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** The key pair for a 32-byte seed; `checkint` is the format's 4 random check bytes. */
export function ed25519FromSeed(seed: Buffer, checkint: Buffer, comment: string): OpenSshKeyPair {
  const der = Buffer.concat([PKCS8_ED25519_PREFIX, seed]);
  const pub = createPublicKey(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }))
    .export({ format: 'der', type: 'spki' })
    .subarray(-32);
  const pubBlob = Buffer.concat([sshString('ssh-ed25519'), sshString(pub)]);
  let priv = Buffer.concat([
    checkint,
    checkint,
    sshString('ssh-ed25519'),
    sshString(pub),
    sshString(Buffer.concat([seed, pub])),
    sshString(comment),
  ]);
  for (let i = 1; priv.length % 8 !== 0; i++) priv = Buffer.concat([priv, Buffer.from([i])]);
  const body = Buffer.concat([
    Buffer.from('openssh-key-v1\0'),
    sshString('none'),
    sshString('none'),
    sshString(''),
    Buffer.from([0, 0, 0, 1]),
    sshString(pubBlob),
    sshString(priv),
  ]);
  const b64 = body.toString('base64').replace(/.{70}/g, '$&\n');
  return {
    privatePem: `-----BEGIN OPENSSH PRIVATE KEY-----\n${b64}\n-----END OPENSSH PRIVATE KEY-----\n`,
    publicOpenSsh: `ssh-ed25519 ${pubBlob.toString('base64')}`,
  };
}

/** A fresh key pair from this process's CSPRNG (the host's; the guest draws its seeds from the kernel). */
export function generateEd25519(comment: string): OpenSshKeyPair {
  return ed25519FromSeed(randomBytes(32), randomBytes(4), comment);
}
