/**
 * A real guest behind the Firecracker stand-in: FAKE_FC_GUEST_PORTS routes the simulated guest's vsock
 * ports to Unix sockets, and these forward each connection to a real QEMU TCG guest's agent over its
 * virtio-serial channels (which add their own hello framing). The session's handshake, SSH and commands
 * through a fake Firecracker then reach the real ghostly-agent in a real guest — never the agent on the host.
 *
 * One deliberate change to the byte stream: a `poweroff` frame on the control stream is dropped, and
 * counted. A real guest would reboot and end its Firecracker (reboot=k); here it would end the shared QEMU
 * guest instead, so the driver's fallback (SendCtrlAltDel, which the stand-in turns into a reboot) ends
 * the fake VM. One QEMU guest has one control port, so sessions through the router must not overlap.
 *
 * And one thing the router does for the shared guest that a restore does for a real clone: a clone starts
 * from its template's state, in which the agent holds SSH until the clone's own session offer is applied
 * (control.ts `template`), so a session may start SSH alongside its offer. The one guest behind the router
 * opened that gate for the previous session long ago, so from each new control connection until its
 * `ready` passes back, the router holds new SSH streams (as the clone's agent would).
 */
import { join } from 'node:path';
import { createServer, type Server, type Socket } from 'node:net';
import { Transform } from 'node:stream';
import { VSOCK_PORTS, type StreamName } from '../../src/shared/ports.js';
import type { VmDriver } from '../../src/host/vm/driver.js';

export interface RoutedConnection {
  stream: StreamName;
  openedAt: number;
  closedAt?: number;
}

export interface GuestRouter {
  /** Value for FAKE_FC_GUEST_PORTS. */
  readonly ports: string;
  readonly connections: RoutedConnection[];
  readonly droppedPoweroffs: number;
  close(): Promise<void>;
}

/** Passes host→guest control frames through, except `poweroff`. */
function dropPoweroff(onDrop: () => void): Transform {
  let pending = '';
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (/"type"\s*:\s*"poweroff"/.test(line)) onDrop();
        else this.push(`${line}\n`);
      }
      done();
    },
  });
}

export async function routeToGuest(guest: VmDriver, socketDir: string): Promise<GuestRouter> {
  const connections: RoutedConnection[] = [];
  const sockets = new Set<Socket>();
  const servers: Server[] = [];
  let dropped = 0;
  let sshHeld = false;
  const releaseSsh: Array<() => void> = [];
  const sshMayGo = (): Promise<void> => (sshHeld ? new Promise((r) => releaseSsh.push(r)) : Promise.resolve());
  const openSsh = (): void => {
    sshHeld = false;
    for (const r of releaseSsh.splice(0)) r();
  };
  const ports: Record<string, string> = {};
  for (const stream of ['control', 'ssh'] as const) {
    const path = join(socketDir, `guest-${stream}.sock`);
    ports[String(VSOCK_PORTS[stream])] = path;
    const server = createServer((host) => {
      const record: RoutedConnection = { stream, openedAt: Date.now() };
      connections.push(record);
      sockets.add(host);
      host.pause();
      host.on('error', () => undefined);
      host.on('close', () => {
        record.closedAt ??= Date.now();
        sockets.delete(host);
      });
      if (stream === 'control') sshHeld = true;
      (stream === 'ssh' ? sshMayGo() : Promise.resolve())
        .then(() => guest.channel(stream).connect({ signal: AbortSignal.timeout(60_000), timeoutMs: 60_000 }))
        .then((g) => {
          g.on('error', () => undefined);
          g.on('close', () => host.destroy());
          host.on('close', () => g.destroy());
          if (stream === 'control')
            g.on('data', (d: Buffer) => d.toString('utf8').includes('"type":"ready"') && openSsh());
          g.pipe(host);
          (stream === 'control' ? host.pipe(dropPoweroff(() => dropped++)) : host).pipe(g);
          host.resume();
        })
        .catch(() => host.destroy());
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    servers.push(server);
  }
  return {
    ports: JSON.stringify(ports),
    connections,
    get droppedPoweroffs() {
      return dropped;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    },
  };
}
