/** Host-side TCP helpers for forwarding and published-port tests: free ports, round trips, polling. */
import { connect, createServer, type AddressInfo } from 'node:net';

/** Polls a (possibly asynchronous) condition until it holds or `ms` pass. */
export async function until(pred: () => boolean | Promise<boolean>, ms: number, stepMs = 200): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await pred()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return await pred();
}

/** A port nobody listens on right now (bound and released). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

export type Target = { port: number; host?: string } | { path: string };

/**
 * Sends `data` to a host TCP port or Unix socket, half-closes, and collects everything that comes back.
 * `resetOk`: a reset counts as the end (OpenSSH resets a -L connection whose channel open failed).
 */
export function roundTrip(target: Target, data: Buffer, resetOk = false): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = 'port' in target ? connect({ host: target.host ?? '127.0.0.1', port: target.port }) : connect(target);
    const got: Buffer[] = [];
    sock.on('data', (d: Buffer) => got.push(d));
    sock.on('error', (err: NodeJS.ErrnoException) => (resetOk && err.code === 'ECONNRESET' ? undefined : reject(err)));
    sock.on('close', () => resolve(Buffer.concat(got)));
    sock.end(data);
  });
}

/** Whether connecting works (a listener is up). */
export function accepts(target: Target): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const sock = 'port' in target ? connect({ host: target.host ?? '127.0.0.1', port: target.port }) : connect(target);
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}
