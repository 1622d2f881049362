/**
 * Runs the review scan over one SSH exec channel: its program on stdin, its stream (listing, then the
 * changed files) on stdout into a GuestStreamReader. No SFTP session: one channel, no round trip a file.
 */
import type ssh2 from 'ssh2';
import type { ClientChannel } from 'ssh2';
import { escapeControl } from '../../shared/escape-control.js';
import { ReviewFailedError } from './errors.js';
import type { GuestStreamReader } from './guest-stream.js';

export function runScan(
  ssh: ssh2.Client,
  command: string,
  source: string,
  reader: GuestStreamReader,
  guestDir: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    ssh.exec(command, (err, ch: ClientChannel) => {
      if (err)
        return reject(
          new ReviewFailedError(`cannot start the guest's scan of ${escapeControl(guestDir)}`, { cause: err }),
        );
      let code = 255;
      let stderr = '';
      let failure: unknown;
      ch.on('exit', (c: number | null) => (code = c ?? 255));
      ch.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
      ch.on('data', (d: Buffer) => {
        if (failure !== undefined) return;
        try {
          reader.push(d);
        } catch (e) {
          // The first lie ends it: the rest of the stream is not read, nor its close waited for.
          failure = e;
          reader.discard();
          ch.close();
          reject(e as Error);
        }
      });
      ch.on('close', () => {
        if (failure !== undefined) return reject(failure);
        if (code !== 0)
          return reject(
            new ReviewFailedError(
              `the guest could not list ${escapeControl(guestDir)}: ${escapeControl(stderr.trim()).slice(0, 500) || `exit ${code}`}`,
            ),
          );
        try {
          reader.end();
          resolve();
        } catch (e) {
          reject(e as Error);
        }
      });
      ch.end(source);
    });
  });
}
