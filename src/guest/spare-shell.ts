/**
 * One login shell started ahead of time, so the first tab's prompt needs no bash start-up (a fork of the
 * agent plus bash reading its profile: about a second of cold code under TCG). The agent starts it when
 * a session is offered; a VM restored from a snapshot finds the template's spare already waiting.
 *
 * It goes to the first PTY shell request whose TERM and environment are exactly those it was started
 * with (the TUI's): its output so far (the prompt) is replayed and the requested size applied. It is
 * handed out at most once; every later shell, and any request that does not match, gets a fresh bash.
 */
import type { IPty } from 'node-pty';
import { SPARE_ENV, SPARE_READY_LOG, SPARE_TERM } from '../shared/spare-shell.js';
import { spawnOnPty, type PtyRequest } from './pty-session.js';

/** Output kept for replay; a waiting shell prints one prompt, so more means something else went on. */
const MAX_BUFFERED = 64 * 1024;

export interface TakenShell {
  proc: IPty;
  earlier: Buffer;
}

export class SpareShell {
  private proc: IPty | undefined;
  private exited = false;
  private output: Buffer[] = [];
  private bytes = 0;
  private stopBuffering: { dispose(): void } | undefined;

  constructor(private readonly log: (msg: string) => void) {}

  /** Starts the spare unless one is waiting. */
  ensure(): void {
    if (this.proc && !this.exited) return;
    this.output = [];
    this.bytes = 0;
    this.exited = false;
    const proc = spawnOnPty({ term: SPARE_TERM, cols: 80, rows: 24 }, { ...SPARE_ENV });
    this.proc = proc;
    this.stopBuffering = proc.onData((data: string | Buffer) => {
      const chunk = Buffer.isBuffer(data) ? data : Buffer.from(data);
      // Its first output is the prompt; a snapshot template waits for this line (template-warmup.ts).
      if (this.bytes === 0) this.log(`${SPARE_READY_LOG} (pid ${proc.pid})`);
      if (this.bytes + chunk.length > MAX_BUFFERED) return;
      this.output.push(chunk);
      this.bytes += chunk.length;
    });
    proc.onExit(() => {
      if (this.proc === proc) this.exited = true;
    });
    this.log(`spare shell started (pid ${proc.pid})`);
  }

  /** The spare, if it matches `req` + `env` and is still alive; it is never handed out twice. */
  take(req: PtyRequest, env: Record<string, string>): TakenShell | undefined {
    const proc = this.proc;
    if (!proc || this.exited || req.term !== SPARE_TERM || !sameEnv(env, SPARE_ENV)) return undefined;
    this.proc = undefined;
    this.stopBuffering?.dispose();
    const earlier = Buffer.concat(this.output);
    this.output = [];
    proc.resize(Math.max(1, req.cols), Math.max(1, req.rows));
    this.log(`spare shell (pid ${proc.pid}) handed to a session`);
    return { proc, earlier };
  }
}

function sameEnv(a: Record<string, string>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}
