/** The QEMU `microvm` driver: spawn (no orphans), QMP, graceful quit then TERM then KILL. */
import { spawn } from 'node:child_process';
import { appendFileSync, chmodSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { MOUNT_SLOTS, mountTag, type GuestMount } from '../../../shared/mounts.js';
import { SSH_POOL_PORT_NAMES, type StreamName } from '../../../shared/ports.js';
import { VirtioSerialChannel } from '../../channel/virtio-serial.js';
import type {
  Accel,
  GuestChannel,
  InstanceDir,
  SharedFolders,
  SshStreamPool,
  VmDriver,
  VmExit,
  VmSpec,
  VmState,
} from '../driver.js';
import { VmExitedError, VmStartError } from '../errors.js';
import { hostTscKhz } from '../host-tsc.js';
import { describeExit } from '../describe-exit.js';
import { settlesWithin, spawnVmm, terminate, type VmmProcess } from '../vmm-process.js';
import { QEMU_FILES, qemuArgs, restoreUri, type QemuArgsInput } from './args.js';
import { QmpClient } from './qmp.js';
import { startPasst, type PasstProcess } from '../../net/passt.js';
import type { MarkFn } from '../../trace.js';
import { shellQuote } from '../../shell-quote.js';

export interface QemuDriverOptions {
  qemuBin: string;
  qemuImgBin: string;
  /** Restore a snapshot (snapshot.ts) instead of booting: device state from `statePath`, RAM mapped from `memoryPath`. */
  restore?: { statePath: string; memoryPath?: string };
  /**
   * A resume (vm/suspend.ts): QEMU loads the state paused, and the guest runs only once this has settled
   * too (the state file's hash, checked meanwhile); a rejection fails the start before the guest ran.
   */
  restoreVerified?: Promise<void>;
  /** A snapshot template: guest RAM lives in this file, shared, so the snapshot need not copy it. */
  templateMemoryPath?: string;
  /** Format of spec.rootfsPath: the raw base image, or a snapshot's qcow2 disk. */
  backingFormat?: 'raw' | 'qcow2';
  /** Put the writable layer here instead of the VM dir (a snapshot template or a kept VM keeps its disk). */
  overlayPath?: string;
  /** overlayPath already holds the layer from an earlier run of this VM (`run --keep`): boot from it as is. */
  reuseOverlay?: boolean;
  /** Called at each start-up step (see trace.ts). */
  onMark?: MarkFn;
}

export class QemuDriver implements VmDriver, SharedFolders {
  readonly backend = 'qemu' as const;
  private proc: VmmProcess | undefined;
  private nat: PasstProcess | undefined;
  private qmp: QmpClient | undefined;
  private _state: VmState = 'created';
  private resolveExited!: (e: VmExit) => void;
  readonly exited: Promise<VmExit> = new Promise((r) => (this.resolveExited = r));
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly spec: VmSpec,
    private readonly dir: InstanceDir,
    readonly accel: Accel,
    private readonly opts: QemuDriverOptions,
  ) {}

  get state(): VmState {
    return this._state;
  }
  get pid(): number | undefined {
    return this.proc?.pid;
  }
  get helperPids(): readonly number[] {
    const pid = this.nat?.proc.pid;
    return pid === undefined ? [] : [pid];
  }

  async start(signal: AbortSignal): Promise<void> {
    if (this._state !== 'created') throw new VmStartError(`VM ${this.spec.name} was already started`);
    this._state = 'starting';
    try {
      const mark = this.opts.onMark ?? (() => undefined);
      if (!this.opts.reuseOverlay) await this.createOverlay();
      mark('qemu-img: overlay created');
      // A fresh NAT per VM (a restored clone too): its socket must listen before QEMU connects to it.
      if (this.spec.net && this.spec.net !== 'none') {
        this.nat = await startPasst(this.dir, this.spec.net, signal);
        mark('nat listening');
      }
      const args = qemuArgs({
        spec: this.spec,
        dir: this.dir,
        accel: this.accel,
        tscKhz: hostTscKhz(),
        ...(this.opts.restore ? { restore: this.opts.restore } : {}),
        ...(this.opts.restoreVerified ? { startPaused: true } : {}),
        ...(this.opts.templateMemoryPath ? { templateMemoryPath: this.opts.templateMemoryPath } : {}),
        ...(this.opts.overlayPath ? { overlayPath: this.opts.overlayPath } : {}),
        ...(this.nat ? { natSocketPath: this.nat.socketPath } : {}),
        ...this.sharedFolderArgs(),
      });
      const log = this.dir.file(QEMU_FILES.log);
      this.proc = spawnVmm([this.opts.qemuBin, ...args], {
        cwd: this.dir.path,
        stdoutPath: log,
        stderrPath: log,
        privateUmask: true,
      });
      mark('qemu spawned');
      const proc = this.proc;
      void proc.exited.then((e) => {
        if (proc.spawnError)
          appendFileSync(log, `cannot run ${this.opts.qemuBin}: ${proc.spawnError.message}\n`, { mode: 0o600 });
        this.qmp?.close();
        void this.nat?.stop(); // it exits by itself once QEMU disconnects (--one-off); this is the backstop
        if (this._state !== 'stopping' && this._state !== 'stopped') this._state = 'failed';
        else this._state = 'stopped';
        this.resolveExited(e);
      });
      this.qmp = await Promise.race([
        this.connectQmp(signal),
        this.exited.then((e) => {
          throw new VmStartError(`QEMU exited during start-up (${describeExit(e)}): ${this.qemuLogTail()}`);
        }),
      ]);
      mark('qmp connected');
      if (this.opts.restore) await this.loadSnapshot(this.opts.restore);
      if (this.opts.restoreVerified) {
        // Nothing of the guest runs (or writes its disk) until the state is known to be the one saved.
        // Both settle first: QEMU may refuse a damaged stream before the hash is done, which says more.
        const [verified, loaded] = await Promise.allSettled([this.opts.restoreVerified, this.incomingDone()]);
        if (verified.status === 'rejected') throw verified.reason;
        if (loaded.status === 'rejected') throw loaded.reason;
        await this.monitor.execute('cont');
        mark('state verified and loaded');
      }
      this._state = 'running';
    } catch (err) {
      await this.stop({ timeoutMs: 0 });
      this._state = 'failed';
      throw err instanceof VmStartError
        ? err
        : new VmStartError(`cannot start QEMU for ${this.spec.name}: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * A template and its clones have MOUNT_SLOTS 9p devices whatever the mounts (the device list is part
   * of the saved state); a cold boot has one per mount. Slots beyond the mounts export an empty dir.
   */
  private sharedFolderArgs(): Pick<QemuArgsInput, 'sharedFolders'> {
    const warm = this.opts.restore !== undefined || this.opts.templateMemoryPath !== undefined;
    const mounts = this.spec.mounts?.length ?? 0;
    const slots = warm ? MOUNT_SLOTS : mounts;
    if (slots === 0) return {};
    const idleDir = this.dir.file(QEMU_FILES.idleMountDir);
    if (slots > mounts) mkdirSync(idleDir, { recursive: true, mode: 0o700 });
    return { sharedFolders: { slots, idleDir } };
  }

  guestMounts(): readonly GuestMount[] {
    return (this.spec.mounts ?? []).map((m, i) => ({ tag: mountTag(i), path: m.guest, readonly: m.readonly }));
  }

  /**
   * Starts loading the snapshot's device state. The stream holds no RAM (the template skipped its shared
   * RAM file), so this takes milliseconds, and the clone runs as soon as it is loaded: the template was
   * saved running. Nothing here waits for the load; the guest's channels say when it is up.
   */
  private async loadSnapshot(restore: { statePath: string; memoryPath?: string }): Promise<void> {
    // Only a warm clone's stream skips RAM (its template's was a shared file); a resumed VM's holds it.
    if (restore.memoryPath)
      await this.monitor.execute('migrate-set-capabilities', {
        capabilities: [{ capability: 'x-ignore-shared', state: true }],
      });
    await this.monitor.execute('migrate-incoming', { uri: restoreUri(restore.statePath) });
  }

  /**
   * Suspend (vm/suspend.ts): a live migration of the whole VM into a file. QEMU stops the guest for the
   * last pass and then flushes and releases the disk, so the overlay on disk is the one the saved RAM
   * knows; the VM stays stopped until quit. Saved running: a resume runs as soon as it is loaded.
   */
  async suspendTo(statePath: string): Promise<void> {
    const qmp = this.monitor;
    await qmp.execute('migrate', { uri: `exec:cat > ${shellQuote([statePath])}` });
    for (;;) {
      const info = (await qmp.execute('query-migrate')) as { status?: string; 'error-desc'?: string };
      if (info.status === 'completed') break;
      if (info.status === 'failed' || info.status === 'cancelled')
        throw new VmStartError(`QEMU could not save VM ${this.spec.name}: ${info['error-desc'] ?? info.status}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    chmodSync(statePath, 0o600);
  }

  /** Waits for a started load (migrate-incoming) to complete; its failure fails the start. */
  private async incomingDone(): Promise<void> {
    for (;;) {
      const info = (await this.monitor.execute('query-migrate')) as { status?: string; 'error-desc'?: string };
      if (info.status === 'completed') return;
      if (info.status === 'failed' || info.status === 'cancelled')
        throw new VmStartError(`QEMU could not load the saved state: ${info['error-desc'] ?? info.status}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** QMP access for capabilities built on the driver (snapshots). */
  get monitor(): QmpClient {
    if (!this.qmp) throw new VmExitedError(`VM ${this.spec.name} has no QMP connection (not running)`);
    return this.qmp;
  }

  stop(opts: { timeoutMs?: number } = {}): Promise<void> {
    this.stopping ??= this.doStop(opts.timeoutMs ?? 1500);
    return this.stopping;
  }

  private async doStop(graceMs: number): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.hasExited) {
      await this.nat?.stop();
      this._state = this._state === 'failed' ? 'failed' : 'stopped';
      return;
    }
    this._state = 'stopping';
    // The guest's disk is a throw-away layer, so a QMP `quit` (QEMU exits cleanly at once) is graceful enough.
    this.qmp?.execute('quit').catch(() => undefined);
    if (!(this.qmp && (await settlesWithin(proc.exited, graceMs)))) await terminate(proc, 2000);
    await this.nat?.stop();
    this._state = 'stopped';
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  channel(name: StreamName): GuestChannel {
    return new VirtioSerialChannel(this.dir.file(QEMU_FILES.socket(name)));
  }

  sshPool(): SshStreamPool {
    return {
      capacity: SSH_POOL_PORT_NAMES.length,
      channel: (index: number) => {
        if (!Number.isInteger(index) || index < 0 || index >= SSH_POOL_PORT_NAMES.length)
          throw new RangeError(`SSH pool index ${index} is outside 0..${SSH_POOL_PORT_NAMES.length - 1}`);
        return new VirtioSerialChannel(this.dir.file(QEMU_FILES.sshPoolSocket(index)));
      },
    };
  }

  async consoleTail(lines = 20): Promise<string> {
    return tailOf(this.dir.file(QEMU_FILES.console), lines);
  }

  private qemuLogTail(): string {
    return tailOf(this.dir.file(QEMU_FILES.log), 5) || '(no output)';
  }

  private async createOverlay(): Promise<void> {
    // The base image is never written: every VM gets its own qcow2 layer on top of it.
    statSync(this.spec.rootfsPath);
    const { cmd, args } = {
      cmd: this.opts.qemuImgBin,
      args: [
        'create',
        '-q',
        '-f',
        'qcow2',
        '-F',
        this.opts.backingFormat ?? 'raw',
        '-b',
        this.spec.rootfsPath,
        this.opts.overlayPath ?? this.dir.file(QEMU_FILES.overlay),
      ],
    };
    await new Promise<void>((resolve, reject) => {
      const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr.on('data', (d: Buffer) => (err += d.toString()));
      p.on('error', reject);
      p.on('close', (code) =>
        code === 0
          ? resolve()
          : reject(new VmStartError(`qemu-img could not create the writable layer: ${err.trim()}`)),
      );
    });
    // qemu-img honours our umask (usually 022): the guest's writes are nobody else's business.
    chmodSync(this.opts.overlayPath ?? this.dir.file(QEMU_FILES.overlay), 0o600);
  }

  private async connectQmp(signal: AbortSignal): Promise<QmpClient> {
    const path = this.dir.file(QEMU_FILES.qmp);
    const deadline = Date.now() + 10_000;
    for (;;) {
      signal.throwIfAborted();
      try {
        return await QmpClient.connect(path, 5000);
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 5)); // QEMU is up in ~50 ms: a restore waits on this
      }
    }
  }
}

function tailOf(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
