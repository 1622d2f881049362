/**
 * Listens on a Unix socket that is 0600 from its first instant at its final path: it is bound inside a
 * fresh 0700 directory next to it (nobody else can reach it there), narrowed to 0600, then renamed into
 * place. (Binding at the final path under a umask would change the umask of the whole process, and
 * chmod after bind leaves a window with a wider mode.)
 */
import { chmodSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { basename, dirname, join } from 'node:path';

export async function listenPrivate(socketPath: string, onConnection: (s: Socket) => void): Promise<Server> {
  const staging = mkdtempSync(join(dirname(socketPath), `.${basename(socketPath)}-`));
  const staged = join(staging, 's');
  const server = createServer({ allowHalfOpen: false }, onConnection);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(staged, () => {
        server.removeListener('error', reject);
        resolve();
      });
    });
    chmodSync(staged, 0o600);
    renameSync(staged, socketPath);
    return server;
  } catch (err) {
    server.close();
    throw err;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
