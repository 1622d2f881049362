/**
 * The VMM child process, for both drivers: spawned so that it cannot outlive us, with its output in
 * files, and ended TERM → KILL.
 *
 * No orphans: we start it through `setpriv --pdeathsig KILL --`, which sets PR_SET_PDEATHSIG and then execs
 * the VMM in the same process, so the kernel SIGKILLs it the moment our process dies — even when we are
 * SIGKILLed and no exit handler runs. (The setting survives execve of a normal binary; it is cleared by a
 * credential change, which is why the jailer path cannot rely on it: see jailer.ts.)
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { connect } from 'node:net';
import type { VmExit } from './driver.js';
import { findExecutable } from './which.js';

export interface VmmProcess {
  readonly pid: number | undefined;
  /** Settles when the process is gone (or failed to spawn). Never rejects. */
  readonly exited: Promise<VmExit>;
  readonly hasExited: boolean;
  readonly spawnError: Error | undefined;
  signal(sig: NodeJS.Signals): void;
}

export interface SpawnVmmOptions {
  readonly cwd: string;
  /** Guest serial console (Firecracker writes ttyS0 to its stdout). */
  readonly stdoutPath: string;
  readonly stderrPath: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Default true. */
  readonly dieWithParent?: boolean;
  /**
   * Start it with umask 077, so every file and socket the VMM creates (QEMU's chardev and QMP sockets) is
   * private from its first instant.
   */
  readonly privateUmask?: boolean;
}

export function spawnVmm(argv: readonly string[], opts: SpawnVmmOptions): VmmProcess {
  const [bin, ...args] = argv;
  if (bin === undefined) throw new TypeError('empty VMM command line');
  const setpriv = opts.dieWithParent === false ? undefined : (findExecutable('setpriv') ?? 'setpriv');
  const guarded = setpriv ? [setpriv, '--pdeathsig', 'KILL', '--', bin, ...args] : [bin, ...args];
  // `sh -c 'umask 077 && exec "$0" "$@"'` execs in place: the pid (and the parent-death signal that
  // setpriv sets next) stay the same process's.
  const [file, ...fileArgs] = opts.privateUmask
    ? ['/bin/sh', '-c', 'umask 077 && exec "$0" "$@"', ...guarded]
    : guarded;
  if (file === undefined) throw new TypeError('empty VMM command line');
  const out = openSync(opts.stdoutPath, 'a', 0o600);
  const err = openSync(opts.stderrPath, 'a', 0o600);
  let exitedFlag = false;
  let spawnError: Error | undefined;
  let resolveExit!: (e: VmExit) => void;
  const exited = new Promise<VmExit>((r) => (resolveExit = r));
  try {
    // stdin ignored: Firecracker would otherwise forward our terminal to the guest serial port.
    const child = spawn(file, fileArgs, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', out, err] });
    child.on('error', (e) => {
      spawnError = e;
      if (child.pid === undefined) {
        exitedFlag = true;
        resolveExit({ code: null, signal: null });
      }
    });
    child.on('exit', (code, signal) => {
      exitedFlag = true;
      resolveExit({ code, signal });
    });
    return {
      get pid() {
        return exitedFlag ? undefined : child.pid;
      },
      exited,
      get hasExited() {
        return exitedFlag;
      },
      get spawnError() {
        return spawnError;
      },
      signal(sig) {
        if (!exitedFlag && child.pid !== undefined) child.kill(sig);
      },
    };
  } finally {
    // The child holds its own copies of the descriptors.
    closeSync(out);
    closeSync(err);
  }
}

/** Resolves true if `p` settled within `ms`. */
export async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
  try {
    return await Promise.race([p.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** TERM, wait, then KILL. Resolves with how it ended; `false` only if even SIGKILL did not end it in time. */
export async function terminate(proc: VmmProcess, termWaitMs: number, killWaitMs = 5_000): Promise<boolean> {
  if (proc.hasExited) return true;
  proc.signal('SIGTERM');
  if (await settlesWithin(proc.exited, termWaitMs)) return true;
  proc.signal('SIGKILL');
  return settlesWithin(proc.exited, killWaitMs);
}

/**
 * Waits until something accepts connections on `socketPath`, the process exits, or the deadline passes.
 * Polling is fine here: Firecracker binds its API socket within milliseconds of starting.
 */
export async function waitForSocket(
  socketPath: string,
  proc: VmmProcess,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<'ready' | 'exited' | 'timeout'> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    if (proc.hasExited) return 'exited';
    if (await canConnect(socketPath)) return 'ready';
    await settlesWithin(proc.exited, 10);
  }
  return 'timeout';
}

function canConnect(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(socketPath);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
