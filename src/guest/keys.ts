/**
 * The agent's two keys: its own Ed25519 host key (generated in the guest, pinned by the host through the
 * control stream) and the one client public key it accepts (injected by the host). Both live in the
 * guest's tmpfs so a restarted agent keeps serving the same session.
 */
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, renameSync, writeFileSync } from 'node:fs';
import ssh2 from 'ssh2';
import { CLIENT_KEY_FILE, HOST_KEY_FILE } from './paths.js';

export interface HostKey {
  privatePem: string;
  publicOpenSsh: string;
  fingerprint: string;
}

export function fingerprintOf(publicOpenSsh: string): string {
  const blob = Buffer.from(publicOpenSsh.split(' ')[1] ?? '', 'base64');
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

function writeAtomic(file: string, data: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, data, { mode: 0o600 });
  renameSync(tmp, file);
}

/**
 * Fresh bytes from the kernel CRNG. Not crypto.randomBytes: OpenSSL's DRBG lives in this process's
 * memory, so every clone restored from one snapshot would draw the *same* bytes from it; the kernel
 * CRNG is reseeded with host entropy by the session offer before we get here.
 */
function kernelRandom(n: number): Buffer {
  const buf = Buffer.alloc(n);
  const fd = openSync('/dev/urandom', 'r');
  try {
    readSync(fd, buf, 0, n, null);
  } finally {
    closeSync(fd);
  }
  return buf;
}

const sshString = (b: Buffer | string): Buffer => {
  const data = typeof b === 'string' ? Buffer.from(b) : b;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  return Buffer.concat([len, data]);
};

/** An Ed25519 key from a 32-byte seed, in the OpenSSH private key format ssh2 reads (unencrypted). */
export function ed25519FromSeed(seed: Buffer, checkint: Buffer): { privatePem: string; publicOpenSsh: string } {
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  const pub = createPublicKey(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })).export({ format: 'der', type: 'spki' }).subarray(-32);
  const pubBlob = Buffer.concat([sshString('ssh-ed25519'), sshString(pub)]);
  let priv = Buffer.concat([checkint, checkint, sshString('ssh-ed25519'), sshString(pub), sshString(Buffer.concat([seed, pub])), sshString('ghostly-agent')]);
  for (let i = 1; priv.length % 8 !== 0; i++) priv = Buffer.concat([priv, Buffer.from([i])]);
  const body = Buffer.concat([Buffer.from('openssh-key-v1\0'), sshString('none'), sshString('none'), sshString(''), Buffer.from([0, 0, 0, 1]), sshString(pubBlob), sshString(priv)]);
  const b64 = body.toString('base64').replace(/.{70}/g, '$&\n');
  return { privatePem: `-----BEGIN OPENSSH PRIVATE KEY-----\n${b64}\n-----END OPENSSH PRIVATE KEY-----\n`, publicOpenSsh: `ssh-ed25519 ${pubBlob.toString('base64')}` };
}

export function generateHostKey(): HostKey {
  const { privatePem, publicOpenSsh } = ed25519FromSeed(kernelRandom(32), kernelRandom(4));
  writeAtomic(HOST_KEY_FILE, privatePem);
  return { privatePem, publicOpenSsh, fingerprint: fingerprintOf(publicOpenSsh) };
}

export function loadOrGenerateHostKey(): HostKey {
  try {
    const privatePem = readFileSync(HOST_KEY_FILE, 'utf8');
    const parsed = ssh2.utils.parseKey(privatePem);
    if (parsed instanceof Error) throw parsed;
    const publicOpenSsh = `${parsed.type} ${parsed.getPublicSSH().toString('base64')}`;
    return { privatePem, publicOpenSsh, fingerprint: fingerprintOf(publicOpenSsh) };
  } catch {
    return generateHostKey();
  }
}

export function saveClientKey(publicOpenSsh: string): void {
  writeAtomic(CLIENT_KEY_FILE, `${publicOpenSsh}\n`);
}

export function loadClientKey(): string | undefined {
  try {
    return readFileSync(CLIENT_KEY_FILE, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
