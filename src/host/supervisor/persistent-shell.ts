/**
 * A shell that outlives the terminal showing it: the supervisor holds the guest PTY's SSH channel and
 * feeds its output through a headless emulator, so a client attaching later gets the current screen
 * (serialized as VT sequences, with scrollback) and then the live output — like tmux's server side.
 * The emulator here never answers queries (DA/DSR): the attached client's own emulator does.
 */
import serializeAddon from '@xterm/addon-serialize';
import type { ClientChannel } from 'ssh2';
import { createXterm, type XTerminal } from '../tui/xterm.js';

const { SerializeAddon } = serializeAddon;

/** Output bytes the emulator may lag behind before the guest shell is paused. */
const HIGH_WATER = 4 << 20;
const LOW_WATER = 512 << 10;
/** Scrollback lines sent to a client on attach (its own emulator keeps more as output continues). */
const ATTACH_SCROLLBACK = 2000;

export interface ShellExit {
  code: number | null;
  signal: string | null;
}

export interface ShellSubscriber {
  /** Returns false when the client's socket is full: the shell pauses until `drained` is called. */
  data(bytes: Uint8Array): boolean;
  exit(status: ShellExit): void;
}

export class PersistentShell {
  private readonly term: XTerminal;
  private readonly serializer = new SerializeAddon();
  private readonly subscribers = new Map<ShellSubscriber, Uint8Array[] | null>();
  private lag = 0;
  private readonly blocked = new Set<ShellSubscriber | 'emulator'>();
  private status: ShellExit | undefined;
  readonly exited: Promise<ShellExit>;

  constructor(readonly id: number, private readonly channel: ClientChannel, cols: number, rows: number, scrollback: number) {
    this.term = createXterm(cols, rows, scrollback);
    this.term.loadAddon(this.serializer as never);
    this.exited = new Promise((resolve) => {
      let status: ShellExit = { code: null, signal: null };
      channel.on('exit', (code: number | null, signal?: string) => (status = { code, signal: signal ?? null }));
      channel.on('close', () => {
        this.status = status;
        for (const sub of this.subscribers.keys()) sub.exit(status);
        this.subscribers.clear();
        this.term.dispose();
        resolve(status);
      });
    });
    const onOutput = (d: Buffer): void => { this.output(d); };
    channel.on('data', onOutput);
    channel.stderr.on('data', onOutput);
  }

  get title(): string {
    return 'shell';
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
        const screen = Buffer.from(this.serializer.serialize({ scrollback: ATTACH_SCROLLBACK }), 'utf8');
        const queued = this.subscribers.get(sub);
        if (queued) this.subscribers.set(sub, null);
        resolve(queued?.length ? Buffer.concat([screen, ...queued]) : screen);
      });
    });
  }

  detach(sub: ShellSubscriber): void {
    this.subscribers.delete(sub);
    this.unblock(sub);
  }

  /** A client's socket drained: resume the shell if nothing else holds it back. */
  drained(sub: ShellSubscriber): void {
    this.unblock(sub);
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
      else if (!sub.data(data)) this.block(sub);
    }
  }

  private block(who: ShellSubscriber | 'emulator'): void {
    if (this.blocked.size === 0) this.channel.pause();
    this.blocked.add(who);
  }

  private unblock(who: ShellSubscriber | 'emulator'): void {
    if (!this.blocked.delete(who)) return;
    if (this.blocked.size === 0 && this.alive) this.channel.resume();
  }

  close(): void {
    this.channel.close();
  }
}
