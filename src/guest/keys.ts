/**
 * The agent's two keys: its own Ed25519 host key (generated in the guest, pinned by the host through the
 * control stream) and the one client public key it accepts (injected by the host). Both live in the
 * guest's tmpfs so a restarted agent keeps serving the same session.
 */
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
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

export function generateHostKey(): HostKey {
  const pair = ssh2.utils.generateKeyPairSync('ed25519');
  const publicOpenSsh = pair.public.trim();
  writeAtomic(HOST_KEY_FILE, pair.private);
  return { privatePem: pair.private, publicOpenSsh, fingerprint: fingerprintOf(publicOpenSsh) };
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
