/**
 * One Firecracker microVM: process, API configuration, shutdown, channels and snapshots.
 *
 * Lifecycle: created → starting → running → stopping → stopped, or failed. `start` either boots from the
 * VmSpec or (restore mode) loads a snapshot into the fresh process; on any failure it kills the process and
 * removes what it created (disk copy, sockets, jail), keeping only the logs for diagnosis.
 */
import { mkdir, rename, rm, writeFile, chown } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../../../shared/errors.js';
import { VSOCK_PORTS, type StreamName } from '../../../shared/ports.js';
import { connectHybridVsock } from '../../channel/fc-vsock.js';
import type { GuestChannel, InstanceDir, SshStreamPool, VmDriver, VmExit, VmSpec, VmState } from '../driver.js';
import { VmExitedError, VmStartError, VmStopError } from '../errors.js';
import { FirecrackerApiClient } from './api-client.js';
import { bootRequests, loggingRequests } from './boot-requests.js';
import { tailFile } from './console-tail.js';
import { cloneFile, linkOrClone } from './disk.js';
import { FirecrackerSnapshotError } from './errors.js';
import { jailerArgv, jailerId, jailPaths, type JailerOptions } from './jailer.js';
import { chrootLayout, plainLayout, type FcFile, type FcLayout } from './layout.js';
import { settlesWithin, spawnVmm, terminate, waitForSocket, type VmmProcess } from '../vmm-process.js';
import { SNAPSHOT_FILES, snapshotLoadRequest, type VmSnapshot } from './snapshot.js';
import type { Snapshotter } from './contracts.js';
import { startNetNamespace, type NetNamespace } from '../../net/netns.js';
import { NetUnavailableError } from '../../net/errors.js';

export interface FirecrackerVmConfig {
  readonly firecrackerBin: string;
  readonly jailer?: JailerOptions;
  /** Environment of the VMM process (default: ours). */
  readonly env?: NodeJS.ProcessEnv;
  /** How long Firecracker may take to open its API socket. */
  readonly socketTimeoutMs?: number;
}

export type BootMode = { readonly kind: 'boot' } | { readonly kind: 'restore'; readonly snapshot: VmSnapshot };

const DEFAULT_STOP_GRACE_MS = 3_000;
const TERM_WAIT_MS = 2_000;

export class FirecrackerVm implements VmDriver, Snapshotter {
  readonly backend = 'firecracker' as const;
  readonly accel = 'kvm' as const;
  readonly exited: Promise<VmExit>;
  #state: VmState = 'created';
  #proc: VmmProcess | undefined;
  #resolveExited!: (e: VmExit) => void;
  readonly #exitAbort = new AbortController();
  #stopping: Promise<void> | undefined;
  readonly #layout: FcLayout;
  readonly #jail: { id: string; jailDir: string; root: string } | undefined;
  readonly #api: FirecrackerApiClient;
  /** With `--net`: the namespace holding the VM's TAP, which the VMM runs in (net/netns.ts). */
  #netns: NetNamespace | undefined;

  constructor(
    readonly spec: VmSpec,
    readonly dir: InstanceDir,
    private readonly config: FirecrackerVmConfig,
    private readonly mode: BootMode = { kind: 'boot' },
  ) {
    this.exited = new Promise((r) => (this.#resolveExited = r));
    if (config.jailer) {
      const id = jailerId(spec.name);
      this.#jail = { id, ...jailPaths(config.jailer, config.firecrackerBin, id) };
      this.#layout = chrootLayout(dir.path, this.#jail.root);
    } else {
      this.#layout = plainLayout(dir.path);
    }
    this.#api = new FirecrackerApiClient(this.#layout.host('apiSocket'));
  }

  get state(): VmState {
    return this.#state;
  }
  get pid(): number | undefined {
    return this.#proc?.pid;
  }
  get helperPids(): readonly number[] {
    return this.#netns?.pids ?? [];
  }
  /** Host paths of this VM's files (sockets, logs, disk) — for diagnostics and tests. */
  get layout(): FcLayout {
    return this.#layout;
  }

  async start(signal: AbortSignal): Promise<void> {
    if (this.#state !== 'created')
      throw new VmStartError(`Firecracker VM ${this.spec.name}: start() called in state ${this.#state}`);
    this.#state = 'starting';
    try {
      signal.throwIfAborted();
      await this.#prepareFiles(signal);
      if (this.spec.net && this.spec.net !== 'none') {
        // The jailer enters a network namespace itself (--netns) as root, where our TAP's owner is not mapped.
        if (this.config.jailer)
          throw new NetUnavailableError(
            '--net with firecracker.jailer = true is not supported yet: turn the jailer off, or use net.mode = "none"',
          );
        this.#netns = await startNetNamespace(this.dir, this.spec.net, signal);
      }
      const proc = this.#spawn();
      const ready = await waitForSocket(
        this.#layout.host('apiSocket'),
        proc,
        this.config.socketTimeoutMs ?? 5_000,
        signal,
      );
      if (ready !== 'ready') {
        const why = proc.spawnError
          ? `could not be started (${proc.spawnError.message})`
          : ready === 'exited'
            ? 'exited before opening its API socket'
            : 'did not open its API socket in time';
        throw new VmStartError(`Firecracker (${this.config.firecrackerBin}) ${why}. ${await this.#diagnostics()}`);
      }
      const logging = loggingRequests(this.#layout);
      await this.#api.call('put', '/logger', { body: logging.logger, signal });
      await this.#api.call('put', '/metrics', { body: logging.metrics, signal });
      if (this.mode.kind === 'boot') await this.#boot(signal);
      else await this.#load(this.mode.snapshot, signal);
      if (proc.hasExited) throw new VmStartError(`Firecracker exited right after start. ${await this.#diagnostics()}`);
      this.#state = 'running';
    } catch (err) {
      this.#state = 'failed';
      await this.#killAndClean({ removeDisk: true });
      if (signal.aborted) throw signal.reason;
      if (err instanceof VmStartError || err instanceof NetUnavailableError) throw err;
      throw new VmStartError(
        `Firecracker VM ${this.spec.name} failed to start: ${errorMessage(err)}. ${await this.#diagnostics()}`,
        { cause: err },
      );
    }
  }

  async #boot(signal: AbortSignal): Promise<void> {
    const r = bootRequests(this.spec, this.#layout, this.#jail !== undefined);
    await this.#api.call('put', '/boot-source', { body: r.bootSource, signal });
    await this.#api.call('put', '/drives/{drive_id}', {
      params: { drive_id: r.rootDrive.drive_id },
      body: r.rootDrive,
      signal,
    });
    await this.#api.call('put', '/machine-config', { body: r.machineConfig, signal });
    await this.#api.call('put', '/vsock', { body: r.vsock, signal });
    if (r.networkInterface)
      await this.#api.call('put', '/network-interfaces/{iface_id}', {
        params: { iface_id: r.networkInterface.iface_id },
        body: r.networkInterface,
        signal,
      });
    await this.#api.call('put', '/actions', { body: r.start, signal });
  }

  async #load(snapshot: VmSnapshot, signal: AbortSignal): Promise<void> {
    const [statePath, memPath] = this.#jail
      ? [this.#layout.vm('snapshotState'), this.#layout.vm('snapshotMem')]
      : [snapshot.statePath, snapshot.memPath];
    try {
      await this.#api.call('put', '/snapshot/load', {
        body: snapshotLoadRequest(statePath, memPath, this.#layout),
        signal,
        timeoutMs: 60_000,
      });
    } catch (err) {
      // Firecracker ends its process after a failed load (the caller's catch makes sure of it).
      throw new FirecrackerSnapshotError(
        `loading snapshot ${snapshot.dir} into VM ${this.spec.name} failed: ${errorMessage(err)}`,
        { cause: err },
      );
    }
  }

  /** Stale sockets, log files, the per-VM disk copy, and (jailer) the chroot contents. */
  async #prepareFiles(signal: AbortSignal): Promise<void> {
    const L = this.#layout;
    const owner = this.config.jailer ? { uid: this.config.jailer.uid, gid: this.config.jailer.gid } : undefined;
    await mkdir(L.vmmRoot, { recursive: true, mode: 0o700 });
    // bind() fails if the path exists: a socket left by a crashed run must go first.
    await this.#removeSockets();
    for (const f of ['log', 'metrics'] as const) {
      await writeFile(L.host(f), '', { mode: 0o600 });
      if (owner) await chown(L.host(f), owner.uid, owner.gid);
    }
    const diskSource = this.mode.kind === 'restore' ? this.mode.snapshot.diskPath : this.spec.rootfsPath;
    await cloneFile(diskSource, L.host('rootfs'), signal);
    if (owner) {
      await chown(L.host('rootfs'), owner.uid, owner.gid);
      if (this.mode.kind === 'boot') {
        await linkOrClone(this.spec.kernelPath, L.host('kernel'), owner);
        await linkOrClone(this.spec.initrdPath, L.host('initrd'), owner);
      } else {
        await linkOrClone(this.mode.snapshot.statePath, L.host('snapshotState'), owner);
        await linkOrClone(this.mode.snapshot.memPath, L.host('snapshotMem'), owner);
      }
      if (this.#jail) await chown(this.#jail.root, owner.uid, owner.gid);
    }
  }

  #spawn(): VmmProcess {
    const fcArgs = ['--api-sock', this.#layout.vm('apiSocket')];
    const argv =
      this.config.jailer && this.#jail
        ? jailerArgv(this.config.jailer, this.config.firecrackerBin, this.#jail.id, fcArgs)
        : [this.config.firecrackerBin, ...fcArgs];
    const proc = spawnVmm(this.#netns ? this.#netns.enter(argv) : argv, {
      cwd: this.#layout.vmmRoot,
      stdoutPath: this.#layout.host('console'),
      stderrPath: this.#layout.host('stderr'),
      env: this.config.env,
    });
    this.#proc = proc;
    void proc.exited.then((exit) => {
      if (this.#state === 'running') this.#state = exit.code === 0 ? 'stopped' : 'failed';
      this.#exitAbort.abort(new VmExitedError(`Firecracker VM ${this.spec.name} exited (${exit.code ?? exit.signal})`));
      void Promise.all([this.#removeSockets(), this.#netns?.stop()]).finally(() => this.#resolveExited(exit));
    });
    return proc;
  }

  stop(opts?: { timeoutMs?: number }): Promise<void> {
    this.#stopping ??= this.#stop(opts?.timeoutMs ?? DEFAULT_STOP_GRACE_MS);
    return this.#stopping;
  }

  async #stop(graceMs: number): Promise<void> {
    const proc = this.#proc;
    if (!proc) {
      this.#state = 'stopped';
      this.#resolveExited({ code: null, signal: null });
      return;
    }
    const wasRunning = this.#state === 'running';
    if (!proc.hasExited) {
      if (this.#state !== 'failed') this.#state = 'stopping';
      if (wasRunning && graceMs > 0) {
        // Graceful: Ctrl+Alt+Del → the guest reboots → with reboot=k Firecracker exits by itself.
        try {
          await this.#api.call('put', '/actions', {
            body: { action_type: 'SendCtrlAltDel' },
            timeoutMs: Math.min(1_000, graceMs),
          });
          await settlesWithin(proc.exited, graceMs);
        } catch {
          // API gone or guest without i8042: fall through to signals
        }
      }
      if (!(await terminate(proc, TERM_WAIT_MS))) {
        throw new VmStopError(`Firecracker (pid ${proc.pid}) of VM ${this.spec.name} survived SIGKILL`);
      }
    }
    await this.exited;
    // The jail (disk copy, linked kernel or snapshot files) is ours and outside the per-VM dir the
    // session removes: without this, every jailed VM would leave a disk-sized copy under the chroot base.
    if (this.#jail) await rm(this.#jail.jailDir, { recursive: true, force: true });
    if (this.#state !== 'failed') this.#state = 'stopped';
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop().catch(() => undefined);
    await rm(this.#layout.host('rootfs'), { force: true });
    if (this.#jail) await rm(this.#jail.jailDir, { recursive: true, force: true });
  }

  consoleTail(lines = 40): Promise<string> {
    return tailFile(this.#layout.host('console'), lines);
  }

  channel(name: StreamName): GuestChannel {
    const udsPath = this.#layout.host('vsockSocket');
    const port = VSOCK_PORTS[name];
    const exitSignal = this.#exitAbort.signal;
    return {
      connect: async (opts) => {
        // The VM going away ends the wait at once, with VmExitedError instead of a timeout.
        exitSignal.throwIfAborted();
        return await connectHybridVsock({
          udsPath,
          port,
          signal: AbortSignal.any([opts.signal, exitSignal]),
          timeoutMs: opts.timeoutMs,
        });
      },
    };
  }

  /** Every hybrid-vsock CONNECT is its own stream to the guest's listener (socat forks per connection). */
  sshPool(): SshStreamPool {
    return { capacity: Infinity, channel: () => this.channel('ssh') };
  }

  async snapshot(destDir: string, opts: { signal?: AbortSignal } = {}): Promise<VmSnapshot> {
    if (this.#state !== 'running')
      throw new FirecrackerSnapshotError(`cannot snapshot VM ${this.spec.name} in state ${this.#state}`);
    const signal = opts.signal;
    await mkdir(destDir, { recursive: true, mode: 0o700 });
    const snap: VmSnapshot = {
      backend: 'firecracker',
      dir: destDir,
      statePath: join(destDir, SNAPSHOT_FILES.state),
      memPath: join(destDir, SNAPSHOT_FILES.mem),
      diskPath: join(destDir, SNAPSHOT_FILES.disk),
    };
    let step = 'pause';
    let paused = false;
    try {
      await this.#api.call('patch', '/vm', { body: { state: 'Paused' }, signal });
      paused = true;
      step = 'create';
      // Under the jailer Firecracker can only write inside its chroot: create there, then move out.
      const [statePath, memPath] = this.#jail
        ? [this.#layout.vm('snapshotState'), this.#layout.vm('snapshotMem')]
        : [snap.statePath, snap.memPath];
      await this.#api.call('put', '/snapshot/create', {
        body: { snapshot_type: 'Full', snapshot_path: statePath, mem_file_path: memPath },
        signal,
        timeoutMs: 120_000,
      });
      if (this.#jail) {
        await moveFile(this.#layout.host('snapshotState'), snap.statePath);
        await moveFile(this.#layout.host('snapshotMem'), snap.memPath);
      }
      step = 'copy the root disk';
      await cloneFile(this.#layout.host('rootfs'), snap.diskPath, signal);
    } catch (err) {
      await rm(destDir, { recursive: true, force: true }).catch(() => undefined);
      // The step's failure is the error; a resume that fails as well is told after it, never instead of it.
      const resumed = paused
        ? await this.#resume().then(
            () => undefined,
            (e: unknown) => e,
          )
        : undefined;
      const also = resumed === undefined ? '' : `; then ${errorMessage(resumed)}`;
      throw new FirecrackerSnapshotError(
        `snapshot of VM ${this.spec.name} failed at step "${step}": ${errorMessage(err)}${also}`,
        { cause: err, ...(resumed === undefined ? {} : { resumeError: resumed }) },
      );
    }
    await this.#resume();
    return snap;
  }

  async #resume(): Promise<void> {
    try {
      await this.#api.call('patch', '/vm', { body: { state: 'Resumed' } });
    } catch (err) {
      throw new FirecrackerSnapshotError(
        `VM ${this.spec.name} could not be resumed after the snapshot and stays paused: ${errorMessage(err)}`,
        { cause: err },
      );
    }
  }

  async #killAndClean(opts: { removeDisk: boolean }): Promise<void> {
    if (this.#proc && !this.#proc.hasExited) await terminate(this.#proc, 500);
    if (this.#proc) await this.exited;
    else this.#resolveExited({ code: null, signal: null });
    await this.#removeSockets();
    await this.#netns?.stop();
    if (opts.removeDisk) {
      await rm(this.#layout.host('rootfs'), { force: true });
      if (this.#jail) await rm(this.#jail.jailDir, { recursive: true, force: true });
    }
  }

  async #removeSockets(): Promise<void> {
    const files: FcFile[] = ['apiSocket', 'vsockSocket'];
    await Promise.all(files.map((f) => rm(this.#layout.host(f), { force: true })));
  }

  async #diagnostics(): Promise<string> {
    const stderr = (await tailFile(this.#layout.host('stderr'), 5)).trim();
    const log = (await tailFile(this.#layout.host('log'), 5)).trim();
    const parts = [
      stderr && `stderr: ${stderr.replace(/\n/g, ' | ')}`,
      log && `log: ${log.replace(/\n/g, ' | ')}`,
    ].filter(Boolean);
    return `${parts.join('; ')}${parts.length ? '; ' : ''}details in ${this.dir.path}`;
  }
}

async function moveFile(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch {
    await cloneFile(from, to);
    await rm(from, { force: true });
  }
}
