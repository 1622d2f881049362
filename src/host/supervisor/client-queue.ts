/**
 * One attached client's outgoing frames: written to its socket as fast as it takes them, the rest held
 * here, so that a slow client never makes the shell wait for it (persistent-shell.ts decides how slow is
 * too slow). Dropping a client throws away what is held for it, so its last frame — why it was dropped —
 * reaches it right after what its socket already holds.
 */
import type { Socket } from 'node:net';

/**
 * A dropped client that does not read its last frame within this is cut off. Long: a stopped terminal
 * (Ctrl-Z, SIGSTOP, a frozen ssh link) should still learn why when it runs again, and what is kept for
 * it meanwhile is only what its socket already holds.
 */
const DROP_LINGER_MS = 10 * 60_000;

export class ClientQueue {
  private readonly held: Buffer[] = [];
  private heldBytes = 0;
  private closing = false;

  /** `onProgress`: the client took some of its backlog (its socket drained). */
  constructor(
    private readonly sock: Socket,
    private readonly onProgress: () => void,
  ) {
    sock.on('drain', () => {
      this.flush();
    });
  }

  /** Bytes handed to this client that it has not read yet: held here or in its socket's buffer. */
  get backlog(): number {
    return this.heldBytes + this.sock.writableLength;
  }

  send(frame: Buffer): void {
    if (this.closing || this.sock.destroyed) return;
    if (this.held.length === 0 && !this.sock.writableNeedDrain) {
      this.sock.write(frame);
      return;
    }
    this.held.push(frame);
    this.heldBytes += frame.length;
  }

  /** Sends `last` after everything queued, then ends the connection. */
  end(last: Buffer): void {
    this.send(last);
    this.closing = true;
    if (this.held.length === 0) this.sock.end();
  }

  /** Discards what is held, sends `last` and ends the connection. */
  drop(last: Buffer): void {
    this.held.length = 0;
    this.heldBytes = 0;
    this.closing = true;
    this.sock.end(last);
    setTimeout(() => this.sock.destroy(), DROP_LINGER_MS).unref();
  }

  private flush(): void {
    while (this.held.length > 0 && !this.sock.writableNeedDrain) {
      const frame = this.held.shift() as Buffer;
      this.heldBytes -= frame.length;
      this.sock.write(frame);
    }
    if (this.closing && this.held.length === 0 && !this.sock.writableEnded) this.sock.end();
    this.onProgress();
  }
}
