/**
 * What an SSH server drew from its random generator for one key exchange, read off the wire: the
 * 16-byte cookie of its KEXINIT and its ephemeral public key (Q_S of KEX_ECDH_REPLY). Both travel in
 * clear before NEWKEYS. Two servers that print the same values share DRBG state.
 */
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import { generateEd25519 } from '../../src/shared-node/openssh-ed25519.js';

export interface ServerKexRandomness {
  cookie: string;
  ephemeral: string;
}

const MSG_KEXINIT = 20;
const MSG_NEWKEYS = 21;
const MSG_KEX_ECDH_REPLY = 31;

/** Parses the server's side of a connection up to NEWKEYS (identification line, then binary packets). */
export function parseServerKex(bytes: Buffer): Partial<ServerKexRandomness> & { done: boolean } {
  const out: Partial<ServerKexRandomness> & { done: boolean } = { done: false };
  const identEnd = bytes.indexOf('\r\n');
  if (identEnd < 0) return out;
  let at = identEnd + 2;
  while (at + 5 <= bytes.length) {
    const len = bytes.readUInt32BE(at);
    if (at + 4 + len > bytes.length) break;
    const padding = bytes[at + 4] ?? 0;
    const payload = bytes.subarray(at + 5, at + 4 + len - padding);
    if (payload[0] === MSG_KEXINIT) out.cookie = payload.subarray(1, 17).toString('hex');
    if (payload[0] === MSG_KEX_ECDH_REPLY) {
      const hostKeyLen = payload.readUInt32BE(1);
      const qAt = 5 + hostKeyLen;
      const qLen = payload.readUInt32BE(qAt);
      out.ephemeral = payload.subarray(qAt + 4, qAt + 4 + qLen).toString('hex');
    }
    if (payload[0] === MSG_NEWKEYS) {
      out.done = true;
      break;
    }
    at += 4 + len;
  }
  return out;
}

/** Runs a key exchange over `sock` (authentication is not needed, nor attempted to succeed). */
export async function serverKexRandomness(sock: Duplex, timeoutMs = 60_000): Promise<ServerKexRandomness> {
  let seen = Buffer.alloc(0);
  sock.on('data', (d: Buffer) => (seen = Buffer.concat([seen, d])));
  const client = new ssh2.Client();
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no key exchange within ${timeoutMs} ms`)), timeoutMs);
      client.once('handshake', () => {
        clearTimeout(timer);
        resolve();
      });
      client.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      client.connect({
        sock: sock as never,
        username: 'root',
        // Not ssh2's generator: ~1 in 256 of its ed25519 keys are ones ssh2 then cannot parse (mscdex/ssh2#1390).
        privateKey: generateEd25519('kex-probe').privatePem,
        hostVerifier: () => true,
        readyTimeout: timeoutMs,
      });
    });
  } finally {
    client.end();
    sock.destroy();
  }
  const kex = parseServerKex(seen);
  if (!kex.cookie || !kex.ephemeral)
    throw new Error(`could not read the server's KEXINIT cookie and ECDH reply from ${seen.length} bytes`);
  return { cookie: kex.cookie, ephemeral: kex.ephemeral };
}
