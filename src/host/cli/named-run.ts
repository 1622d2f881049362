/**
 * `run NAME` / `run --detach` / `attach NAME`: VMs held by a supervisor. `run NAME` starts the VM if it is
 * not running (from its kept disk if it has one) and attaches; a VM already running is simply attached.
 * Of two commands starting the same name at once exactly one wins; the other gets a clear error.
 */
import { randomBytes } from 'node:crypto';
import { escapeControlLines } from '../../shared/escape-control.js';
import { QUIET_AFTER_INPUT_END_MS, runTui } from '../tui/index.js';
import type { ConfigKey } from '../config/schema.js';
import type { PublishedPort } from '../ports/spec.js';
import { SessionVmLostError } from '../session-errors.js';
import { StoreNameTakenError, StoreVmNotRunningError } from '../store/errors.js';
import { validateVmName } from '../store/instance-dir.js';
import { openRemoteShell, request } from '../supervisor/client.js';
import { SupervisorStateError } from '../supervisor/errors.js';
import { launchSupervisor } from '../supervisor/launch.js';
import { findVm, requireVm, supervisorSocket, type VmEntry } from '../supervisor/registry.js';
import { attachedTuiBackend } from '../supervisor/attached-tui-backend.js';
import { isAlive } from '../store/process-identity.js';
import { cliContext, notice, noticeIgnoredVmFlags, type CliContext } from './context.js';
import { isVerbose } from './output.js';
import { buildProgressPrinter } from './progress.js';
import { abortOnSignals } from './signals-abort.js';
import { stopVm } from './stop.js';
import { tuiOptions } from './tui-shell.js';
import { resolveMounts } from '../workspace/mount-check.js';

export interface NamedRunOptions {
  name?: string;
  detach: boolean;
  keep: boolean;
  cold: boolean;
  raw: boolean;
  /** `-p`: bound by the supervisor before the VM boots; `port NAME add|rm` changes them later. */
  publish?: PublishedPort[];
  flags: Partial<Record<ConfigKey, unknown>>;
}

export async function namedRun(opts: NamedRunOptions): Promise<number> {
  const ctx = cliContext(opts.flags);
  const name = validateVmName(opts.name ?? `ghost-${randomBytes(3).toString('hex')}`);
  const entry = findVm(ctx.paths, name);
  if (entry?.state === 'starting')
    throw new StoreNameTakenError(
      `VM ${name} is being started by another command (pid ${entry.owner?.host.pid ?? '?'}); wait for it, then \`virtualghost attach ${name}\``,
    );
  if (entry?.state === 'running') {
    if (!entry.supervised)
      throw new StoreNameTakenError(
        `a throw-away VM named ${name} is running (pid ${entry.owner?.host.pid ?? '?'}); pick another name`,
      );
    noticeIgnoredVmFlags(
      name,
      opts.flags,
      opts.publish?.length ? [`-p (use \`virtualghost port ${name} add SPEC\`)`] : [],
    );
    if (opts.detach) {
      notice(`${name} is already running`);
      return 0;
    }
    return await attach(ctx, name);
  }
  resolveMounts(ctx.config); // a bad mount: exit 65 here, before a supervisor or VM dir exists
  await abortOnSignals(async (signal) => {
    await launchSupervisor({
      name,
      flags: opts.flags,
      publish: opts.publish ?? [],
      keep: opts.keep,
      cold: opts.cold,
      signal,
      onNotice: notice,
      onProgress: buildProgressPrinter(),
      ...(isVerbose()
        ? { onPhase: (p: string) => notice(`[${(performance.now() / 1000).toFixed(2)}s] phase ${p}`) }
        : {}),
    });
  });
  if (opts.detach) {
    process.stdout.write(`${name}\n`);
    notice(
      `${name} is running detached: \`virtualghost attach ${name}\` to open it, \`virtualghost stop ${name}\` to end it`,
    );
    return 0;
  }
  return await attach(ctx, name, opts.raw);
}

function runningSupervised(ctx: CliContext, name: string): VmEntry & { dir: string } {
  const entry = requireVm(ctx.paths, validateVmName(name));
  // Not running (stopped or dead) is one class with one exit code, as `exec NAME` and `cp` report it.
  if (entry.state === 'stopped')
    throw new StoreVmNotRunningError(
      `VM ${name} is stopped (its disk is kept); \`virtualghost run ${name}\` starts it again`,
    );
  if (entry.state === 'dead')
    throw new StoreVmNotRunningError(
      `VM ${name} died (its supervisor is gone); \`virtualghost clean\` removes what is left`,
    );
  if (!entry.supervised || !entry.dir)
    throw new SupervisorStateError(`VM ${name} is a throw-away run of another command: it cannot be attached`);
  return { ...entry, dir: entry.dir };
}

export async function attachCommand(name: string, opts: { raw: boolean }): Promise<number> {
  const ctx = cliContext();
  // A suspended VM is resumed first, as `run NAME` would; one stopped without a state is not booted.
  if (requireVm(ctx.paths, validateVmName(name)).savedStateBytes !== undefined)
    return await namedRun({ name, detach: false, keep: false, cold: false, raw: opts.raw, flags: {} });
  return await attach(ctx, name, opts.raw);
}

async function attach(ctx: CliContext, name: string, raw = false): Promise<number> {
  const entry = runningSupervised(ctx, name);
  const socket = supervisorSocket(entry.dir);
  if (raw || !process.stdout.isTTY) return await rawAttach(name, socket);
  const backend = await attachedTuiBackend(socket);
  try {
    const result = await runTui(backend, { input: process.stdin, output: process.stdout }, tuiOptions(ctx));
    if (backend.vmLost !== undefined && result.reason === 'shell-exited') throw vmLostError(backend.vmLost);
    if (result.reason === 'error') throw result.error instanceof Error ? result.error : new Error(String(result.error));
    if (result.reason === 'quit') {
      await stopVm(ctx.paths, name);
      notice(`stopped ${name}`);
      return 0;
    }
    if (result.reason === 'detached') {
      notice(
        `${result.inputEnded ? 'stdin ended: ' : ''}detached from ${name}, which keeps running: \`virtualghost attach ${name}\` to come back`,
      );
      return 0;
    }
    if (result.reason === 'shell-exited' && !isAlive(findVm(ctx.paths, name)?.owner?.host)) {
      throw new SessionVmLostError(`VM ${name} went away (its supervisor ended); see \`virtualghost logs ${name}\``);
    }
    if (result.reason === 'shell-exited')
      notice(
        `the last shell exited; ${name} keeps running (\`virtualghost attach ${name}\` opens a new shell, \`virtualghost stop ${name}\` ends it)`,
      );
    return result.exitCode;
  } finally {
    backend.dispose();
  }
}

/**
 * No TUI (not a terminal, or --raw): the first shell's bytes straight through; ends when it exits. Once stdin
 * is at its end (`attach NAME </dev/null`, a finished pipe) the output is still shown until the shell exits or
 * stays quiet for a moment, and then we detach, as docker attach does: the shell is shared and persistent, so
 * an EOF is not passed on to end it (`exec NAME` is the verb for piped input and its exit status).
 */
async function rawAttach(name: string, socket: string): Promise<number> {
  const status = await request<{ tabs: Array<{ id: number }> }>(socket, { op: 'status' });
  const size = { cols: process.stdout.columns || 80, rows: process.stdout.rows || 24 };
  const first = status.tabs[0];
  const shell = await openRemoteShell(socket, { ...size, ...(first ? { tab: first.id } : {}) });
  const stdin = process.stdin;
  const wasRaw = stdin.isTTY ? stdin.isRaw : false;
  if (stdin.isTTY) stdin.setRawMode(true);
  let inputEnded = false;
  let quiet: NodeJS.Timeout | undefined;
  const detachWhenQuiet = (): void => {
    clearTimeout(quiet);
    quiet = setTimeout(() => shell.close(), QUIET_AFTER_INPUT_END_MS);
  };
  shell.onData((d) => {
    process.stdout.write(d);
    if (inputEnded) detachWhenQuiet();
  });
  const onInput = (d: Buffer): void => shell.write(d);
  const onEnd = (): void => {
    inputEnded = true;
    detachWhenQuiet();
  };
  stdin.on('data', onInput);
  stdin.once('end', onEnd);
  const onResize = (): void => shell.resize(process.stdout.columns || 80, process.stdout.rows || 24);
  process.stdout.on('resize', onResize);
  try {
    const st = await shell.exited;
    if (shell.vmLost !== undefined) throw vmLostError(shell.vmLost);
    if (await shell.detachedOrLost) {
      if (!inputEnded) throw new SessionVmLostError("the connection to the VM's supervisor ended");
      notice(`stdin ended: detached from ${name}, which keeps running (\`virtualghost attach ${name}\` to come back)`);
      return 0;
    }
    return st.code ?? 1;
  } finally {
    clearTimeout(quiet);
    stdin.off('data', onInput);
    stdin.off('end', onEnd);
    stdin.pause();
    process.stdout.off('resize', onResize);
    if (stdin.isTTY) stdin.setRawMode(wasRaw);
  }
}

/** The supervisor's word that the VM died, for the user's terminal (it carries the guest's console lines). */
function vmLostError(reason: string): SessionVmLostError {
  return new SessionVmLostError(escapeControlLines(reason));
}
