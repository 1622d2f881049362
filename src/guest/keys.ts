/**
 * The agent's two keys: its own Ed25519 host key (generated in the guest, pinned by the host through the
 * control stream) and the one client public key it accepts (injected by the host). Both live in the
 * guest's tmpfs so a restarted agent keeps serving the same session.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, renameSync, writeFileSync } from 'node:fs';
import ssh2 from 'ssh2';
import { ed25519FromSeed } from '../shared-node/openssh-ed25519.js';
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

export function generateHostKey(): HostKey {
  const { privatePem, publicOpenSsh } = ed25519FromSeed(kernelRandom(32), kernelRandom(4), 'ghostly-agent');
  writeAtomic(HOST_KEY_FILE, privatePem);
  return { privatePem, publicOpenSsh, fingerprint: fingerprintOf(publicOpenSsh) };
}

/**
 * Serves a host key the host made (after a snapshot restore): no key generation on the clone's cold code
 * paths. Saved for a restarted agent; the write is the caller's to schedule, off the critical path.
 */
export function adoptHostKey(key: { privatePem: string; publicOpenSsh: string }): { hostKey: HostKey; save(): void } {
  return {
    hostKey: { ...key, fingerprint: fingerprintOf(key.publicOpenSsh) },
    save: () => writeAtomic(HOST_KEY_FILE, key.privatePem),
  };
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
