/**
 * PTY shells that outlive their SSH connection (shared/kept-shell.ts), so a VM saved while its
 * supervisor held them resumes with them: same process, same foreground program. Only the loss of the
 * connection detaches a shell (the supervisor ends it before a save); a channel the host closes while
 * its connection lives (a tab closed, a VM stopped without a save) hangs the shell up, as before. Detached, a shell's
 * output goes to a bounded buffer (oldest dropped) that the next attach replays first; a shell nobody
 * re-attaches is hung up after KEPT_SHELL_DETACHED_MS, and all of them end with the VM.
 */
import type { IPty } from 'node-pty';
import type { ServerChannel } from 'ssh2';
import {
  KEPT_SHELL_BUFFER_BYTES,
  KEPT_SHELL_DETACHED_MS,
  KEPT_SHELL_ENV,
  KEPT_SHELL_ID,
} from '../shared/kept-shell.js';
import { exitOnStream, type PtyHandle } from './pty-session.js';

export interface KeptShellRequest {
  id: string;
  reattach: boolean;
}

/** Takes the kept-shell variables out of `env`; undefined if there are none or the id is malformed. */
export function takeKeptShellRequest(env: Record<string, string>): KeptShellRequest | undefined {
  const id = env[KEPT_SHELL_ENV.id];
  const reattach = env[KEPT_SHELL_ENV.reattach] === '1';
  delete env[KEPT_SHELL_ENV.id];
  delete env[KEPT_SHELL_ENV.reattach];
  return id !== undefined && KEPT_SHELL_ID.test(id) ? { id, reattach } : undefined;
}

class KeptShell {
  private stream: ServerChannel | undefined;
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private hangup: NodeJS.Timeout | undefined;

  constructor(
    readonly id: string,
    private readonly proc: IPty,
    private readonly gone: () => void,
    private readonly log: (msg: string) => void,
  ) {
    proc.onData((data: string | Buffer) => {
      const chunk = Buffer.isBuffer(data) ? data : Buffer.from(data);
      const stream = this.stream;
      if (!stream) return this.keep(chunk);
      if (!stream.write(chunk)) {
        proc.pause();
        stream.once('drain', () => {
          if (this.stream === stream) proc.resume();
        });
      }
    });
    proc.onExit(({ exitCode, signal }) => {
      clearTimeout(this.hangup);
      this.gone();
      const stream = this.stream;
      this.stream = undefined;
      if (stream) {
        exitOnStream(stream, exitCode, signal);
        stream.end();
      }
    });
  }

  /**
   * Joins `stream`, replaying `earlier` and what was kept while detached; a stream still joined is closed.
   * `connectionGone`: whether the stream's SSH connection has ended (then its close detaches).
   */
  join(stream: ServerChannel, connectionGone: () => boolean, earlier?: Buffer): PtyHandle {
    const previous = this.stream;
    this.stream = undefined;
    previous?.close();
    clearTimeout(this.hangup);
    const replay = Buffer.concat([...(earlier ? [earlier] : []), ...this.buffered]);
    this.buffered = [];
    this.bufferedBytes = 0;
    if (replay.length) stream.write(replay);
    this.stream = stream;
    stream.on('data', (data: Buffer) => {
      if (this.stream === stream) this.proc.write(data);
    });
    stream.on('close', () => {
      if (this.stream !== stream) return;
      if (connectionGone()) this.detach();
      else this.hangUp();
    });
    this.proc.resume();
    return { resize: (cols, rows) => this.proc.resize(Math.max(1, cols), Math.max(1, rows)) };
  }

  private detach(): void {
    this.stream = undefined;
    this.proc.resume(); // it may have been paused for the stream; detached, its output is kept instead
    this.log(`kept shell ${this.id.slice(0, 8)} (pid ${this.proc.pid}) detached`);
    this.hangup = setTimeout(() => {
      this.log(
        `kept shell ${this.id.slice(0, 8)} was not re-attached within ${KEPT_SHELL_DETACHED_MS / 1000} s: hung up`,
      );
      this.hangUp();
    }, KEPT_SHELL_DETACHED_MS);
  }

  private hangUp(): void {
    this.stream = undefined;
    try {
      this.proc.kill('SIGHUP');
    } catch {
      /* already gone */
    }
  }

  private keep(chunk: Buffer): void {
    this.buffered.push(chunk);
    this.bufferedBytes += chunk.length;
    while (this.bufferedBytes > KEPT_SHELL_BUFFER_BYTES && this.buffered.length > 1) {
      this.bufferedBytes -= this.buffered.shift()?.length ?? 0;
    }
    if (this.bufferedBytes > KEPT_SHELL_BUFFER_BYTES) {
      const only = this.buffered[0] ?? Buffer.alloc(0);
      this.buffered = [only.subarray(only.length - KEPT_SHELL_BUFFER_BYTES)];
      this.bufferedBytes = KEPT_SHELL_BUFFER_BYTES;
    }
  }
}

export class KeptShells {
  private readonly shells = new Map<string, KeptShell>();

  constructor(private readonly log: (msg: string) => void) {}

  /** Keeps `proc` under `id` (a new shell) and joins it to `stream`. */
  adopt(id: string, stream: ServerChannel, proc: IPty, connectionGone: () => boolean, earlier?: Buffer): PtyHandle {
    const shell = new KeptShell(id, proc, () => this.forget(id, shell), this.log);
    this.shells.set(id, shell);
    return shell.join(stream, connectionGone, earlier);
  }

  /** The kept shell `id`, if it is still running. */
  has(id: string): boolean {
    return this.shells.has(id);
  }

  reattach(id: string, stream: ServerChannel, connectionGone: () => boolean): PtyHandle | undefined {
    const shell = this.shells.get(id);
    if (!shell) return undefined;
    this.log(`kept shell ${id.slice(0, 8)} re-attached`);
    return shell.join(stream, connectionGone);
  }

  private forget(id: string, shell: KeptShell): void {
    if (this.shells.get(id) === shell) this.shells.delete(id);
  }
}
