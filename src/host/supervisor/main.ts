/**
 * The supervisor: one detached process per named (or detached) VM. It owns the VMM, the session's SSH
 * connection and the persistent shells, serves `supervisor.sock`, and ends — removing the per-VM dir — on
 * `stop`, SIGTERM/SIGINT, or when the VM dies. While starting it reports to the launching command over fd 3
 * (JSON lines: notice, progress, phase, ready, error); after that it logs to supervisor.log in the per-VM dir.
 * If it is SIGKILLed, the VMM follows (parent-death signal) and `ps` shows the leftovers as dead for `clean`.
 */
import { DEBUG_ENV } from '../config/other-env.js';
import { appendFileSync, closeSync, writeSync } from 'node:fs';
import type ssh2 from 'ssh2';
import type { ErrorCode } from '../../shared/error-codes.js';
import { errorMessage, GhostError } from '../../shared/errors.js';
import type { ConfigKey } from '../config/schema.js';
import { loadConfig } from '../config/load.js';
import { ghostPaths } from '../store/paths.js';
import { VmSession } from '../session.js';
import { generateClientKey } from '../ssh/keys.js';
import { writeNamedVmFiles } from '../store/named-vm-files.js';
import { keptDir, prepareKept, readKept, saveKeptLogs } from './kept.js';
import { removeSavedShells, takeSavedShells, writeSavedShells } from './saved-shells.js';
import { readSavedState, removeSavedState, verifyStateHash } from './saved-state.js';
import { suspendSession } from './suspend-vm.js';
import type { SessionResume } from '../session.js';
import { SUPERVISOR_LOG, SUPERVISOR_SOCKET } from './protocol.js';
import { SupervisorServer } from './server.js';
import { serveSshRelay } from './ssh-relay.js';
import { PortPublisher } from '../ports/publisher.js';
import type { PublishedPort } from '../ports/spec.js';
import { recordPorts } from '../store/vm-record.js';

export type LaunchMessage =
  | { t: 'notice'; line: string }
  | { t: 'progress'; p: unknown }
  | { t: 'phase'; phase: string }
  | { t: 'ready'; name: string; readyMs: number }
  | { t: 'error'; code: ErrorCode; message: string };

const REPORT_FD = 3;
/** After an internal error while starting, how long cleaning up may take before the process just exits. */
const START_FAILURE_EXIT_MS = 15_000;

export interface SuperviseOptions {
  name: string;
  flags: Partial<Record<ConfigKey, unknown>>;
  /** Bound before the VM boots (a port in use fails the start with CONFIG_INVALID: exit 65, no VM). */
  publish?: readonly PublishedPort[];
  keep: boolean;
  cold: boolean;
  /** false (`--no-pool`): never take a VM from the standby pool. */
  pool?: boolean;
}

export async function supervise(opts: SuperviseOptions): Promise<number> {
  let reporting = true;
  const report = (m: LaunchMessage): void => {
    if (!reporting) return;
    try {
      writeSync(REPORT_FD, `${JSON.stringify(m)}\n`);
    } catch {
      reporting = false; // the launcher went away: carry on, the VM is ours to hold
    }
  };
  let logFile: string | undefined;
  // Until the per-VM dir (and so supervisor.log) exists, lines go to stderr, which the launching command
  // reads while we start (launch.ts) and shows if we fail. After that nobody reads it: a write to it then
  // must not become an error of ours.
  process.stderr.on('error', () => undefined);
  const log = (line: string): void => {
    const stamped = `${new Date().toISOString()} ${line}\n`;
    if (logFile) appendFileSync(logFile, stamped, { mode: 0o600 });
    else process.stderr.write(stamped);
  };
  const abort = new AbortController();
  let stopRequested: (() => void) | undefined;
  /** `stop --discard-state` (or a signal): a kept VM keeps its disk only, not its running state. */
  let discardState = false;
  const stopped = new Promise<void>((r) => (stopRequested = r));
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.on(sig, () => {
      log(`got ${sig}: stopping`);
      discardState = true;
      abort.abort(new Error(`interrupted by ${sig}`));
      stopRequested?.();
    });
  }
  process.on('SIGHUP', () => {}); // detached from any terminal: a hangup is not ours to act on
  let ready = false;
  let startFailure: Error | undefined;
  const internalError = (err: unknown): void => {
    const e = err instanceof Error ? err : new Error(String(err));
    log(`internal error: ${e.stack ?? e.message}`);
    if (ready) {
      stopRequested?.(); // end the VM cleanly rather than leave it half-managed
      return;
    }
    // Still starting: the launching command is told now (it must not hang or report success), and the
    // start is abandoned; if cleaning up hangs too, we go anyway (the VMM follows: parent-death signal).
    if (startFailure) return;
    startFailure = e;
    report({
      t: 'error',
      code: 'INTERNAL',
      message: `the supervisor of ${opts.name} failed while starting, with an internal error (a bug: please report it): ${process.env[DEBUG_ENV] ? (e.stack ?? e.message) : e.message}`,
    });
    abort.abort(e);
    setTimeout(() => process.exit(70), START_FAILURE_EXIT_MS).unref();
  };
  process.on('uncaughtException', internalError);
  process.on('unhandledRejection', internalError);

  let session: VmSession | undefined;
  let relay: { close(): Promise<void> } | undefined;
  let server: SupervisorServer | undefined;
  let publisher: PortPublisher | undefined;
  try {
    // Lines about published ports go to supervisor.log (`virtualghost logs NAME`) once it exists;
    // nothing can be forwarded before then.
    publisher = await PortPublisher.bind(opts.publish ?? [], log);
    const paths = ghostPaths();
    const kept = readKept(paths, opts.name);
    // A kept VM comes back at the size it was created with unless the command line says otherwise.
    const flags = { ...(kept ? { vcpus: kept.vcpus, memory: `${kept.memoryMiB}M` } : {}), ...definedOnly(opts.flags) };
    const ctx = { paths, config: loadConfig(paths.configFile, process.env, flags) };
    const keptDisk =
      opts.keep || kept
        ? {
            fromEarlierRun: kept !== undefined,
            open: () => {
              const k = prepareKept(ctx.paths, {
                name: opts.name,
                vcpus: ctx.config.values.vcpus,
                memoryMiB: ctx.config.values.memory,
                imageId: kept?.imageId ?? 'current',
              });
              return { path: k.disk, exists: k.exists };
            },
          }
        : undefined;
    // A suspended VM resumes with the keys it was saved with (the same VM); see saved-state.ts.
    const savedLookup = kept ? readSavedState(paths, opts.name) : ({ state: 'none' } as const);
    let resume: SessionResume | undefined;
    if (savedLookup.state === 'unusable' || (savedLookup.state === 'ok' && opts.cold)) {
      removeSavedState(paths, opts.name);
      report({
        t: 'notice',
        line: `VM ${opts.name}'s saved state ${savedLookup.state === 'unusable' ? `cannot be resumed (${savedLookup.why})` : 'is discarded (--cold)'}: booting it cold from its disk, which is kept as it was`,
      });
    }
    const saved = savedLookup.state === 'ok' && !opts.cold ? savedLookup.saved : undefined;
    if (saved)
      resume = {
        statePath: saved.statePath,
        identity: saved.meta.identity,
        imageId: saved.meta.imageId,
        hostKey: saved.meta.hostKey,
        verify: () => verifyStateHash(saved),
        discard: () => removeSavedState(paths, opts.name),
      };
    const key = saved
      ? { privateKey: saved.meta.clientPrivateKey, publicOpenSsh: saved.meta.clientPublicKey }
      : generateClientKey();
    session = await VmSession.start({
      config: ctx.config,
      paths: ctx.paths,
      name: opts.name,
      signal: abort.signal,
      supervised: true,
      clientKey: key,
      cold: opts.cold,
      pool: opts.pool !== false,
      ...(keptDisk ? { keptDisk } : {}),
      ...(resume ? { resume } : {}),
      onNotice: (line) => report({ t: 'notice', line }),
      onBuildProgress: (p) => report({ t: 'progress', p }),
      onPhase: (phase) => report({ t: 'phase', phase }),
    });
    const s = session;
    logFile = s.dir.file(SUPERVISOR_LOG);
    log(
      `VM ${s.name} ready in ${s.timings.readyMs} ms (${s.driver.backend}/${s.driver.accel}, supervisor pid ${process.pid})`,
    );
    // Where a resume's time went (the bench's target is a prompt within 1.5 s): `virtualghost logs NAME`.
    if (resume && s.restoredFrom)
      log(`resumed from the saved state; start-up steps:\n  ${s.trace.describe().join('\n  ')}`);
    if (!s.ssh || !s.hostKey) throw new Error('the session has no SSH connection');
    const files = writeNamedVmFiles(s.dir.path, {
      name: s.name,
      clientPrivateKey: key.privateKey,
      clientPublicKey: key.publicOpenSsh,
      hostKey: s.hostKey,
    });
    // Every other client (OpenSSH via `proxy`, `exec NAME`, `cp`) gets its own end-to-end SSH connection.
    relay = await serveSshRelay({ socketPath: files.relaySocket, pool: s.driver.sshPool(), log });
    const ports = publisher;
    ports.attach(s.ssh);
    const portsChanged = (): void => recordPorts(s.dir.path, ports.list());
    if (ports.list().length) portsChanged();
    server = new SupervisorServer({
      ssh: s.ssh,
      ports,
      portsChanged,
      scrollback: ctx.config.values['tui.scrollback'],
      log,
      stop: (how) => {
        discardState = how.discardState;
        stopRequested?.();
      },
      lost: s.lost,
      status: () => {
        const stats = s.control?.lastStats;
        return {
          pid: process.pid,
          name: s.name,
          backend: s.driver.backend,
          accel: s.driver.accel,
          vcpus: s.spec.vcpus,
          memoryMiB: s.spec.memoryMiB,
          readyMs: s.timings.readyMs,
          startedAt: s.startedAt,
          ...(s.restoredFrom ? { restoredFrom: s.restoredFrom } : {}),
          ...(stats
            ? {
                guestCpuPercent: stats.cpuPercent,
                guestMemUsedBytes: stats.memUsedBytes,
                guestMemTotalBytes: stats.memTotalBytes,
              }
            : {}),
        };
      },
    });
    // The shells saved with the VM (saved-shells.ts) are re-attached before any client can attach.
    const savedShells = keptDisk ? takeSavedShells(keptDir(paths, s.name), log) : [];
    if (savedShells.length && s.restoredFrom) await server.restoreShells(savedShells);
    else if (savedShells.length) log(`the VM booted cold: its ${savedShells.length} saved shell(s) are gone`);
    await server.listen(s.dir.file(SUPERVISOR_SOCKET));
    if (startFailure) throw startFailure;
    ready = true;
    report({ t: 'ready', name: s.name, readyMs: s.timings.readyMs });
    endReporting();

    const lost = await Promise.race([stopped.then(() => undefined), s.lost]);
    if (lost) log(`the VM was lost: ${lost.message}`);
    const suspending = keptDisk !== undefined && !lost && !discardState;
    const screens = suspending ? await server.saveScreens() : [];
    await server.close(lost ? lostNotice(lost, s.name, keptDisk !== undefined) : undefined, suspending); // attached clients are told why
    await relay.close();
    await ports.close();
    if (keptDisk && !lost && s.ssh) await syncGuest(s.ssh, log);
    if (suspending) {
      const dir = keptDir(ctx.paths, s.name);
      writeSavedShells(dir, screens, log);
      const keys = { clientPrivateKey: key.privateKey, clientPublicKey: key.publicOpenSsh };
      if (!(await suspendSession(s, ctx.paths, keys, log))) removeSavedShells(dir);
    }
    if (keptDisk) saveKeptLogs(ctx.paths, s.name, s.dir.path);
    await s.close();
    return lost ? 79 : 0;
  } catch (err) {
    if (startFailure) log(`start abandoned after the internal error: ${errorMessage(err)}`);
    else {
      const code =
        err instanceof GhostError
          ? err.code
          : (err as Error | null)?.name === 'AbortError' || abort.signal.aborted
            ? 'INTERRUPTED'
            : 'INTERNAL';
      report({ t: 'error', code, message: errorMessage(err) });
      log(`failed: ${errorMessage(err)}`);
    }
    await server?.close();
    await relay?.close();
    await publisher?.close();
    await session?.close();
    return startFailure ? 70 : 1;
  } finally {
    endReporting();
  }

  function endReporting(): void {
    if (!reporting) return;
    reporting = false;
    try {
      closeSync(REPORT_FD);
    } catch {
      // not open (started by hand)
    }
  }
}

/**
 * The VMM is quit without a guest shutdown: a kept disk must first have the guest's dirty pages written
 * out, or the next boot finds the last writes missing.
 */
async function syncGuest(ssh: ssh2.Client, log: (line: string) => void): Promise<void> {
  const done = new Promise<void>((resolve) => {
    ssh.exec('sync', (err, ch) => {
      if (err) return resolve();
      ch.on('close', () => resolve());
      ch.resume();
    });
  });
  const timedOut = await Promise.race([
    done.then(() => false),
    new Promise<boolean>((r) => setTimeout(() => r(true), 15_000).unref()),
  ]);
  if (timedOut) log('the guest did not finish `sync` within 15 s; its last writes may be lost');
}

/** What attached clients print when the VM died: the session's reason, and where a kept VM's logs are. */
function lostNotice(lost: Error, name: string, kept: boolean): string {
  return kept
    ? `${lost.message}\nIts disk and last logs are kept: \`virtualghost logs ${name}\`, \`virtualghost run ${name}\` boots it again`
    : lost.message;
}

function definedOnly<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
