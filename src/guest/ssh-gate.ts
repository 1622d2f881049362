/**
 * Holds incoming SSH connections while the agent must not answer them yet. A snapshot template's last
 * session closes the gate when its control connection ends (control.ts `template`): every clone then
 * starts with it closed, so however early a clone's host connects its SSH stream, nothing is served with
 * the template's host key, client key or clock. The next session offer, once applied, opens it and the
 * held connections go through in arrival order (their bytes wait in the sockets meanwhile).
 */
import type { Socket } from 'node:net';

export class SshGate {
  private held: Socket[] = [];
  private closed = false;

  constructor(private readonly serve: (socket: Socket) => void) {}

  admit(socket: Socket): void {
    if (!this.closed) {
      this.serve(socket);
      return;
    }
    socket.pause();
    socket.once('close', () => (this.held = this.held.filter((s) => s !== socket)));
    this.held.push(socket);
  }

  close(): void {
    this.closed = true;
  }

  open(): void {
    this.closed = false;
    for (const socket of this.held.splice(0)) {
      if (socket.destroyed) continue;
      this.serve(socket);
      socket.resume();
    }
  }
}
