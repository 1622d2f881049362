/**
 * A fresh connection to a running VM's SSH stream that is known to reach the agent: it waits for the
 * agent's SSH banner (and puts it back for the SSH client to read). A virtio-serial port serves one host
 * connection at a time; a connection that gets no banner is dropped and retried after a pause.
 */
import type { Socket } from 'node:net';
import type { VmSession } from '../../src/host/session.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The first chunk the guest sends on `sock`, or undefined after `ms`. Leaves the chunk unread. */
export function firstChunk(sock: Socket, ms: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      sock.removeListener('data', onData);
      resolve(undefined);
    }, ms);
    const onData = (d: Buffer): void => {
      clearTimeout(timer);
      sock.pause();
      sock.unshift(d);
      resolve(d);
    };
    sock.once('data', onData);
  });
}

export function endAndWait(sock: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (sock.destroyed) {
      resolve();
      return;
    }
    const timer = setTimeout(() => sock.destroy(), 3000);
    sock.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    sock.resume(); // a paused socket never sees the peer's EOF
    sock.end();
  });
}

export async function sshStreamToAgent(
  session: VmSession,
  opts: { attempts?: number; pauseMs?: number } = {},
): Promise<Socket> {
  const attempts = opts.attempts ?? 5;
  for (let i = 1; ; i++) {
    await sleep(opts.pauseMs ?? 1000); // let the guest see the previous host connection go
    const sock = (await session.driver
      .channel('ssh')
      .connect({ signal: AbortSignal.timeout(30_000), timeoutMs: 30_000 })) as Socket;
    const first = await firstChunk(sock, 4000);
    if (first?.toString('latin1').startsWith('SSH-2.0-')) return sock;
    await endAndWait(sock);
    if (i >= attempts)
      throw new Error(
        `no SSH banner from the agent after ${attempts} connections (last got ${first ? JSON.stringify(first.toString('latin1').slice(0, 40)) : 'nothing'})`,
      );
  }
}
