/**
 * ssh2 client over a guest channel stream. The host key is pinned: only the key the agent reported over
 * the control stream is accepted (no trust-on-first-use), and only our per-session key authenticates.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import { SshConnectError, SshHostKeyMismatchError } from './errors.js';
import { keyBlob } from './keys.js';
import type { MarkFn } from '../trace.js';

export interface SshConnectOptions {
  sock: Duplex;
  privateKey: string;
  pinnedHostKey: string;
  timeoutMs: number;
  /** Called when key exchange is done (see trace.ts). */
  onMark?: MarkFn;
}

export async function connectSsh(opts: SshConnectOptions): Promise<ssh2.Client> {
  const pinned = keyBlob(opts.pinnedHostKey);
  let mismatch = false;
  const client = new ssh2.Client();
  return await new Promise<ssh2.Client>((resolve, reject) => {
    let failed = false;
    const onError = (err: Error): void => {
      // Stays subscribed after the first failure: ending the client makes ssh2 report the lost connection
      // too, and an 'error' nobody listens to would crash the process.
      if (failed) return;
      failed = true;
      client.end();
      if (mismatch)
        reject(
          new SshHostKeyMismatchError(
            'the guest presented a host key other than the one pinned from the control handshake; refusing to connect (the VM may have been tampered with)',
          ),
        );
      else reject(new SshConnectError(`SSH to the guest agent failed: ${err.message}`, { cause: err }));
    };
    client.once('ready', () => {
      client.removeListener('error', onError);
      resolve(client);
    });
    client.on('error', onError);
    client.once('handshake', () => opts.onMark?.('ssh key exchange done'));
    client.connect({
      sock: opts.sock as never,
      username: 'root',
      privateKey: opts.privateKey,
      // Straight to our key: ssh2's default tries `none` first, one more round trip to an emulated guest.
      authHandler: ['publickey'],
      readyTimeout: opts.timeoutMs,
      keepaliveInterval: 0,
      hostVerifier: (key: Buffer) => {
        const ok = key.length === pinned.length && timingSafeEqual(key, pinned);
        mismatch = !ok;
        return ok;
      },
      algorithms: { serverHostKey: ['ssh-ed25519'] },
    });
  });
}
