/**
 * A shell that outlives the terminal showing it: the supervisor holds the guest PTY's SSH channel and
 * feeds its output through a headless emulator, so a client attaching later gets the current screen
 * (serialized as VT sequences, with scrollback) and then the live output — like tmux's server side.
 * The emulator here never answers queries (DA/DSR): the attached client's own emulator does.
 */
import serializeAddon from '@xterm/addon-serialize';
import type { ClientChannel } from 'ssh2';
import { terminalStateSequence } from '../tui/terminal-modes.js';
import { createXterm, windowTitle, type XTerminal } from '../tui/xterm.js';
import { sanitize } from '../tui/width.js';

const { SerializeAddon } = serializeAddon;

/** Output bytes the emulator may lag behind before the guest shell is paused. */
const HIGH_WATER = 4 << 20;
const LOW_WATER = 512 << 10;
/** Scrollback lines sent to a client on attach (its own emulator keeps more as output continues). */
const ATTACH_SCROLLBACK = 2000;

/**
 * Flow control per client (bytes queued for a client that it has not read: ShellSubscriber.backlog). The
 * shell keeps the pace of its fastest client: it is paused only while every client has more than
 * `pauseBytes` queued — so a lone slow client gets plain backpressure, as from a terminal over ssh, and
 * nothing is dropped for being alone — and one slow client never stalls the others. A client left behind
 * while another keeps up (more than `behindBytes` queued for `graceMs`, or more than `maxBytes` at all,
 * which bounds what the supervisor holds for it) is dropped with a message; re-attaching brings it back
 * with the current screen.
 */
export interface ClientLimits {
  pauseBytes: number;
  behindBytes: number;
  maxBytes: number;
  graceMs: number;
}
export const CLIENT_LIMITS: ClientLimits = {
  pauseBytes: 64 << 10,
  behindBytes: 1 << 20,
  maxBytes: 16 << 20,
  graceMs: 5_000,
};

export interface ShellExit {
  code: number | null;
  signal: string | null;
}

export interface ShellSubscriber {
  /** Takes the bytes; never refuses them (a slow client's are queued, see `backlog`). */
  data(bytes: Uint8Array): void;
  /** Bytes handed to this client that it has not read yet. */
  backlog(): number;
  exit(status: ShellExit): void;
  /** Disconnects the client, which fell too far behind, telling it why (it is already detached). */
  drop(reason: string): void;
}

export class PersistentShell {
  private readonly term: XTerminal;
  private readonly serializer = new SerializeAddon();
  private readonly subscribers = new Map<ShellSubscriber, Uint8Array[] | null>();
  private lag = 0;
  private readonly blocked = new Set<'clients' | 'emulator'>();
  /** Clients over `behindBytes`, each with the timer that drops it if it stays there. */
  private readonly behind = new Map<ShellSubscriber, NodeJS.Timeout>();
  private status: ShellExit | undefined;
  readonly exited: Promise<ShellExit>;

  /**
   * `guestId`: the agent keeps the guest shell under it across a save (shared/kept-shell.ts).
   * `earlierScreen`: the screen saved with the VM (saveScreen), drawn before the channel's output.
   */
  constructor(
    readonly id: number,
    readonly guestId: string,
    private readonly channel: ClientChannel,
    cols: number,
    rows: number,
    scrollback: number,
    private readonly limits: ClientLimits = CLIENT_LIMITS,
    earlierScreen?: string,
  ) {
    this.term = createXterm(cols, rows, scrollback);
    this.term.loadAddon(this.serializer as never);
    if (earlierScreen) this.term.write(earlierScreen);
    this.exited = new Promise((resolve) => {
      let status: ShellExit = { code: null, signal: null };
      channel.on('exit', (code: number | null, signal?: string) => (status = { code, signal: signal ?? null }));
      channel.on('close', () => {
        this.status = status;
        for (const sub of this.subscribers.keys()) sub.exit(status);
        this.subscribers.clear();
        for (const timer of this.behind.values()) clearTimeout(timer);
        this.behind.clear();
        this.term.dispose();
        resolve(status);
      });
    });
    const onOutput = (d: Buffer): void => {
      this.output(d);
    };
    channel.on('data', onOutput);
    channel.stderr.on('data', onOutput);
  }

  get title(): string {
    return sanitize(windowTitle(this.term)).slice(0, 256) || 'shell';
  }
  get clients(): number {
    return this.subscribers.size;
  }
  get alive(): boolean {
    return this.status === undefined;
  }

  input(data: Uint8Array): void {
    if (this.alive) this.channel.write(data);
  }

  resize(cols: number, rows: number): void {
    if (!this.alive || (cols === this.term.cols && rows === this.term.rows)) return;
    this.term.resize(cols, rows);
    this.channel.setWindow(rows, cols, 0, 0);
  }

  /**
   * Adds a client at `cols`×`rows`. Resolves with the screen as VT sequences once every byte received so
   * far is parsed; bytes arriving meanwhile are queued for this client and sent right after the screen.
   */
  attach(sub: ShellSubscriber, cols: number, rows: number): Promise<Uint8Array> {
    this.resize(cols, rows);
    this.subscribers.set(sub, []);
    return new Promise((resolve) => {
      this.term.write(new Uint8Array(0), () => {
        const screen = Buffer.from(this.serializeNow(), 'utf8');
        const queued = this.subscribers.get(sub);
        if (queued) this.subscribers.set(sub, null);
        resolve(queued?.length ? Buffer.concat([screen, ...queued]) : screen);
      });
    });
  }

  /** The screen as VT sequences (as attach sends it) once every byte received so far is parsed. */
  saveScreen(): Promise<{ cols: number; rows: number; screen: string }> {
    return new Promise((resolve) => {
      this.term.write(new Uint8Array(0), () => {
        resolve({ cols: this.term.cols, rows: this.term.rows, screen: this.serializeNow() });
      });
    });
  }

  /** The cells, then every mode the cells do not carry (cursor, mouse, region, charsets, title…). */
  private serializeNow(): string {
    const dump = this.serializer.serialize({ scrollback: ATTACH_SCROLLBACK, excludeModes: true });
    return dump + terminalStateSequence(this.term);
  }

  detach(sub: ShellSubscriber): void {
    this.subscribers.delete(sub);
    clearTimeout(this.behind.get(sub));
    this.behind.delete(sub);
    this.pace();
  }

  /** A client read some of its backlog: the shell may run again, or the client is no longer behind. */
  drained(): void {
    this.pace();
  }

  private output(data: Buffer): void {
    this.lag += data.length;
    this.term.write(data, () => {
      this.lag -= data.length;
      if (this.lag < LOW_WATER) this.unblock('emulator');
    });
    if (this.lag > HIGH_WATER) this.block('emulator');
    for (const [sub, queue] of this.subscribers) {
      if (queue) queue.push(data);
      else sub.data(data);
    }
    this.pace();
  }

  /** Pauses the shell while no client keeps up; watches (and drops) the clients left behind. */
  private pace(): void {
    let keepingUp = false;
    for (const [sub, queue] of this.subscribers) {
      if (queue) {
        keepingUp = true; // still attaching: it gets the screen, then the live bytes
        continue;
      }
      const backlog = sub.backlog();
      if (backlog > this.limits.maxBytes) {
        this.drop(
          sub,
          `more than ${mib(this.limits.maxBytes)} of shell ${this.id}'s output were waiting for it`,
          false,
        );
        continue;
      }
      if (backlog <= this.limits.pauseBytes) keepingUp = true;
      if (backlog <= this.limits.behindBytes) {
        clearTimeout(this.behind.get(sub));
        this.behind.delete(sub);
      } else if (!this.behind.has(sub)) {
        this.watch(sub);
      }
    }
    if (this.subscribers.size > 0 && !keepingUp) this.block('clients');
    else this.unblock('clients');
  }

  private watch(sub: ShellSubscriber): void {
    const timer = setTimeout(() => {
      this.behind.delete(sub);
      if (!this.subscribers.has(sub) || sub.backlog() <= this.limits.behindBytes) return;
      // Behind while every client is (the shell waits for them all): nobody holds anybody back, keep waiting.
      const othersKeepUp = [...this.subscribers].some(
        ([other, queue]) => other !== sub && (queue !== null || other.backlog() <= this.limits.behindBytes),
      );
      if (othersKeepUp)
        this.drop(
          sub,
          `more than ${mib(this.limits.behindBytes)} of shell ${this.id}'s output waited for it for ${this.limits.graceMs / 1000} s while another client kept up`,
        );
      else this.watch(sub);
    }, this.limits.graceMs);
    timer.unref();
    this.behind.set(sub, timer);
  }

  /** `repace`: false from inside pace(), which goes on to decide for the clients left. */
  private drop(sub: ShellSubscriber, why: string, repace = true): void {
    this.subscribers.delete(sub);
    clearTimeout(this.behind.get(sub));
    this.behind.delete(sub);
    sub.drop(why);
    if (repace) this.pace();
  }

  private block(who: 'clients' | 'emulator'): void {
    if (this.blocked.size === 0) this.channel.pause();
    this.blocked.add(who);
  }

  private unblock(who: 'clients' | 'emulator'): void {
    if (!this.blocked.delete(who)) return;
    if (this.blocked.size === 0 && this.alive) this.channel.resume();
  }

  close(): void {
    this.channel.close();
  }
}

const mib = (bytes: number): string => `${bytes / (1 << 20)} MiB`;
