/**
 * One VM session, as an explicit state machine:
 *   idle → booting (VMM spawned) → handshake (control: hello → session → ready) → ssh (pinned host key)
 *        → ready → closing → closed          (any phase → failed, and then closing/closed)
 * `close()` is idempotent and runs on every exit path: SSH ends, the VMM is stopped (TERM, KILL) and the
 * per-VM directory with its sockets, overlay and logs is removed.
 */
import { randomBytes } from 'node:crypto';
import type ssh2 from 'ssh2';
import { errorMessage } from '../shared/errors.js';
import { escapeControlLines } from '../shared/escape-control.js';
import { HostControl } from './control/host-control.js';
import { checkImagePackages, ensureImage, type BuildProgress, type ExtraPackages } from './image/build.js';
import { parseImageSource } from './image/oci/image-source.js';
import { resolveOciImage } from './image/oci/resolve.js';
import { markUsed } from './image/last-used.js';
import { describeDamage, readImage, type CachedImage } from './image/cache.js';
import { ImageDamagedError, ImageNotFoundError } from './image/errors.js';
import { ConfigInvalidError } from './config/errors.js';
import { originSource, type LoadedConfig } from './config/load.js';
import { SessionBootError, SessionVmLostError } from './session-errors.js';
import { generateClientKey, generateGuestHostKey, type ClientKey } from './ssh/keys.js';
import type { Ready } from '../shared/control.js';
import type { OpenSshKeyPair } from '../shared-node/openssh-ed25519.js';
import { createInstanceDir, type OwnedInstanceDir } from './store/instance-dir.js';
import { OWNER_FILE, identify, writeOwner, type OwnerRecord } from './store/process-identity.js';
import { writeVmRecord } from './store/vm-record.js';
import { StartTrace, type TraceMark } from './trace.js';
import type * as SshClientModule from './ssh/client.js';
import type { GhostPaths } from './store/paths.js';
import { hasSharedFolders, type VmDriver, type VmSpec } from './vm/driver.js';
import { MOUNT_SLOTS } from '../shared/mounts.js';
import { resolveMounts } from './workspace/mount-check.js';
import { describeExit } from './vm/describe-exit.js';
import { netProfile } from '../shared/guest-net.js';
import { selectBackend, type BackendChoice } from './vm/select.js';
import { canKeepDisks, type KeptDisk } from './vm/kept-disks.js';
import { VmBackendUnavailableError } from './vm/errors.js';
import { hasWarmSnapshots, type WarmSnapshots } from './vm/warm-snapshots.js';
import { canResume, type ResumeFactory } from './vm/suspend.js';
import { claimPooledVm, poolMayRun, type ClaimedVm } from './pool/claim.js';
import type { PreparedSession } from './pool/keeper-protocol.js';

export type SessionPhase =
  'idle' | 'snapshotting' | 'booting' | 'handshake' | 'ssh' | 'ready' | 'closing' | 'closed' | 'failed';

export interface SessionTimings {
  /** Spawn of the VMM → agent's hello on the control stream. */
  agentMs: number;
  /** Spawn → SSH authenticated (ready for shells). */
  readyMs: number;
}

export interface SessionOptions {
  config: LoadedConfig;
  paths: GhostPaths;
  name?: string;
  signal: AbortSignal;
  onPhase?: (phase: SessionPhase) => void;
  onNotice?: (line: string) => void;
  onBuildProgress?: (p: BuildProgress) => void;
  bootTimeoutMs?: number;
  /** Skip warm snapshots: always boot from scratch. */
  cold?: boolean;
  /** The key SSH clients of this VM authenticate with (a supervised VM's per-VM key); default: a fresh one. */
  clientKey?: ClientKey;
  /** Held by a supervisor (named/detached VM): recorded for `ps`. */
  supervised?: boolean;
  /**
   * Boot from a kept writable layer (`run NAME --keep`) instead of a fresh one; it stays where it is when
   * the VM ends. Implies a cold boot. `open` makes or finds it, and is called only once the name is
   * claimed and the backend is known to keep disks (a backend that cannot is refused before it boots).
   */
  keptDisk?: { readonly fromEarlierRun: boolean; open(): KeptDisk };
  /** Each start-up step as it happens (the same marks end up in `session.trace`). */
  onMark?: (m: TraceMark) => void;
  /**
   * Resume this kept VM from its saved state (vm/suspend.ts) instead of booting its disk cold; any
   * failure falls back to the cold boot, with a notice. Needs keptDisk and clientKey (the VM's own).
   */
  resume?: SessionResume;
  /** false: never take a VM from the standby pool (`--no-pool`); default: take one whose shape matches. */
  pool?: boolean;
}

export interface SessionResume {
  readonly statePath: string;
  /** What the state was saved for: the backend's resumeIdentity() and the image it ran. */
  readonly identity: string;
  readonly imageId: string;
  /** The host key pinned before the save: the same VM must answer with it. */
  readonly hostKey: string;
  /** Resolves if the state file is the one saved (hash); a rejection says why not. */
  verify(): Promise<void>;
  /** The state cannot be resumed, or has been: it is removed (a state is used at most once). */
  discard(): void;
}

/**
 * ssh2 takes ~0.15 s (more on a busy machine) to load: the session starts loading it at once and only
 * waits for it once SSH is due, so the load overlaps the VMM's own start. (Keys need no ssh2.)
 */
let sshClientModule: Promise<typeof SshClientModule> | undefined;
const loadSshClient = (): NonNullable<typeof sshClientModule> => (sshClientModule ??= import('./ssh/client.js'));

const BOOT_TIMEOUT_MS = 90_000;
/** A restored clone answers in well under a second; if it does not within this, boot cold instead. */
const RESTORE_TIMEOUT_MS = 15_000;
/** How long a shell that ended with its connection waits for the session to learn why (sshLost waits ≤ 1 s). */
const LOST_REASON_WAIT_MS = 3_000;

/** image.packages as the image builder takes it, with where it was set; undefined when it is empty. */
export function extraPackages(config: LoadedConfig): ExtraPackages | undefined {
  const names = config.values['image.packages'];
  if (names.length === 0) return undefined;
  const source = originSource(config, 'image.packages');
  return {
    names,
    from:
      config.origins['image.packages'] === 'flag' ? '--package' : `image.packages${source ? ` (from ${source})` : ''}`,
  };
}

/**
 * What must be refused before a VM dir exists: extra packages with an image id (which is used as it was
 * built), or a package apt does not have.
 */
export async function checkImageRequest(opts: Pick<SessionOptions, 'config' | 'paths'>): Promise<void> {
  const packages = extraPackages(opts.config);
  if (packages && opts.config.values.image !== 'default') {
    const image = originSource(opts.config, 'image');
    throw new ConfigInvalidError(
      `${packages.from} adds packages to the default image, but image is ${opts.config.values.image}${image ? ` (from ${image})` : ''}, which is used as it was built: drop one of the two`,
    );
  }
  await checkImagePackages(opts.paths.imagesDir, packages);
}

export async function resolveImage(
  opts: Pick<SessionOptions, 'config' | 'paths' | 'signal' | 'onBuildProgress' | 'onNotice'>,
): Promise<CachedImage> {
  const wanted = opts.config.values.image;
  const packages = extraPackages(opts.config);
  const source = parseImageSource(wanted);
  if (source && source.kind !== 'default' && source.kind !== 'id') return await resolveOciImage(opts, source);
  if (wanted !== 'default') {
    const found = readImage(opts.paths.imagesDir, wanted);
    if (found.state === 'ok') return found.image;
    const source = originSource(opts.config, 'image');
    const asked = `image ${wanted} (\`image\`${source ? ` from ${source}` : ''})`;
    if (found.state === 'absent')
      throw new ImageNotFoundError(
        `${asked} is not in ${opts.paths.imagesDir}; see \`virtualghost image ls\` or set image = "default"`,
      );
    // An image asked for by id may be an older recipe's, which cannot be rebuilt: say so rather than build another.
    throw new ImageDamagedError(
      `${asked} is damaged: ${describeDamage(found)}. Remove it with \`virtualghost image rm ${wanted}\`; \`virtualghost image build\` then builds the current recipe's image (if its id is not ${wanted}, set image to that id or to "default")`,
    );
  }
  return await ensureImage({
    imagesDir: opts.paths.imagesDir,
    signal: opts.signal,
    ...(packages ? { packages } : {}),
    ...(opts.onBuildProgress ? { onProgress: opts.onBuildProgress } : {}),
    ...(opts.onNotice ? { onNotice: opts.onNotice } : {}),
  });
}

export class VmSession {
  private _phase: SessionPhase = 'idle';
  private closing: Promise<void> | undefined;
  readonly startedAt = Date.now();
  /** Settles with an error if the VM goes away while the session is open. */
  readonly lost: Promise<Error>;
  private resolveLost!: (e: Error) => void;
  /** The SSH connection to the guest ended, or the VMM exited: a shell that ends now may have ended with them. */
  private connectionGone = false;

  readonly name: string;
  readonly dir: OwnedInstanceDir;
  readonly driver: VmDriver;
  readonly choice: BackendChoice;
  readonly image: CachedImage;
  private readonly opts: SessionOptions;
  readonly spec: VmSpec;
  /** Start-up steps with timestamps (see trace.ts). */
  readonly trace: StartTrace;
  /** The warm snapshot this VM was restored from, if it was not booted cold. */
  readonly restoredFrom: string | undefined;
  /** Set by boot(): the control stream and SSH connection to the agent, and how long they took. */
  control: HostControl | undefined;
  ssh: ssh2.Client | undefined;
  timings: SessionTimings = { agentMs: 0, readyMs: 0 };

  private constructor(parts: {
    name: string;
    dir: OwnedInstanceDir;
    driver: VmDriver;
    choice: BackendChoice;
    image: CachedImage;
    opts: SessionOptions;
    spec: VmSpec;
    trace: StartTrace;
    restoredFrom?: string;
  }) {
    this.name = parts.name;
    this.dir = parts.dir;
    this.driver = parts.driver;
    this.choice = parts.choice;
    this.image = parts.image;
    this.opts = parts.opts;
    this.spec = parts.spec;
    this.trace = parts.trace;
    this.restoredFrom = parts.restoredFrom;
    this.lost = new Promise((r) => (this.resolveLost = r));
  }

  get phase(): SessionPhase {
    return this._phase;
  }

  private setPhase(p: SessionPhase): void {
    this._phase = p;
    this.opts.onPhase?.(p);
  }

  static async start(opts: SessionOptions): Promise<VmSession> {
    const name = opts.name ?? `run-${randomBytes(3).toString('hex')}`;
    await checkImageRequest(opts);
    const mounts = resolveMounts(opts.config); // a missing host dir: exit 65 before any VM dir exists
    const trace = new StartTrace(opts.onMark);
    trace.mark('session start');
    loadSshClient().catch(() => undefined); // awaited (and a failure reported) in boot()
    // Pooled VMs have no shared folders: a run with mounts starts a VM of its own.
    if (opts.pool !== false && !opts.cold && !opts.keptDisk && mounts.length === 0 && poolMayRun(opts.paths)) {
      const pooled = await VmSession.fromPool(name, opts, trace);
      if (pooled) return pooled;
    }
    // The name is claimed first: of two commands starting the same name, one fails at once.
    const dir = createInstanceDir(opts.paths.vmsDir, name);
    let driver: VmDriver;
    let spec: VmSpec;
    let choice: BackendChoice;
    let image: CachedImage;
    try {
      image = await resolveImage(opts);
      markUsed(image);
      trace.mark('image resolved');
      choice = await selectBackend(opts.config.values, opts.paths);
      trace.mark('backend chosen');
      // Firecracker reaches the guest over vsock, through socat, which an OCI image is not given (yet).
      if (image.manifest.source && choice.factory.name === 'firecracker')
        throw new VmBackendUnavailableError(
          `image ${image.id} (${image.manifest.source.ref}) is an OCI image, which runs on QEMU only for now: use --backend qemu`,
        );
      if (choice.notice) opts.onNotice?.(choice.notice);
      spec = {
        name,
        vcpus: opts.config.values.vcpus,
        memoryMiB: opts.config.values.memory,
        kernelPath: image.kernel,
        initrdPath: image.initrd,
        rootfsPath: image.rootfs,
        net: netProfile(opts.config.values['net.mode'], opts.config.values['net.host_access']),
        ...(mounts.length ? { mounts } : {}),
      };
      if (opts.resume && opts.keptDisk && canResume(choice.factory)) {
        const resumed = await VmSession.resumeStart(
          { resume: opts.resume, factory: choice.factory, keptDisk: opts.keptDisk },
          choice,
          image,
          spec,
          dir,
          opts,
          trace,
        );
        if (resumed) return resumed;
      } else if (opts.resume) {
        opts.resume.discard();
        opts.onNotice?.(
          `the ${choice.factory.name} backend cannot resume VM ${name}'s saved state: booting it cold from its disk`,
        );
      }
      if (mounts.length > MOUNT_SLOTS)
        opts.onNotice?.(
          `${mounts.length} mounts: warm snapshots have ${MOUNT_SLOTS} shared-folder slots, booting cold`,
        );
      if (hasWarmSnapshots(choice.factory) && !opts.cold && !opts.keptDisk && mounts.length <= MOUNT_SLOTS) {
        const warm = await VmSession.warmStart(choice.factory.warmSnapshots(), choice, image, spec, dir, opts, trace);
        if (warm) return warm;
      }
      if (opts.keptDisk && !canKeepDisks(choice.factory)) {
        throw new VmBackendUnavailableError(
          opts.keptDisk.fromEarlierRun
            ? `VM ${name} has a kept disk from an earlier run, which the ${choice.factory.name} backend cannot boot; start it with \`--backend qemu\` (or \`virtualghost rm ${name}\` deletes that disk)`
            : `the ${choice.factory.name} backend cannot keep a VM's disk: with --keep, VM ${name} would run on a disk that stop deletes. Use \`--backend qemu\` for a kept VM, or leave out --keep`,
        );
      }
      driver =
        opts.keptDisk && canKeepDisks(choice.factory)
          ? choice.factory.createOnKeptDisk(spec, dir, choice.accel, opts.keptDisk.open())
          : choice.factory.create(spec, dir, choice.accel);
    } catch (err) {
      dir.remove();
      throw err;
    }
    const session = new VmSession({ name, dir, driver, choice, image, opts, spec, trace });
    try {
      await session.boot({ restored: false });
      return session;
    } catch (err) {
      session.setPhase('failed');
      await session.close();
      throw err;
    }
  }

  /**
   * A VM from the standby pool (pool/claim.ts), if one of this shape is ready: already restored and past
   * its first SSH login, it gets this session's own offer — client key, host key, time, entropy — like a
   * fresh clone. Anything short of a ready session falls back to a normal start (undefined).
   */
  private static async fromPool(name: string, opts: SessionOptions, trace: StartTrace): Promise<VmSession | undefined> {
    let claimed: ClaimedVm | undefined;
    try {
      const image = await resolveImage(opts);
      claimed = await claimPooledVm({ ...opts, name, image, onMark: trace.mark });
    } catch (err) {
      opts.onNotice?.(`the standby pool could not hand over a VM (${errorMessage(err)}); starting one`);
      return undefined;
    }
    if (!claimed) return undefined;
    trace.mark('claimed from the pool');
    const session = new VmSession({
      name,
      dir: claimed.dir,
      driver: claimed.driver,
      choice: claimed.choice,
      image: claimed.image,
      opts: { ...opts, bootTimeoutMs: RESTORE_TIMEOUT_MS },
      spec: claimed.spec,
      trace,
      restoredFrom: claimed.restoredFrom,
    });
    try {
      await session.boot({ restored: true, ...(claimed.session ? { prepared: claimed.session } : {}) });
      return session;
    } catch (err) {
      await session.close();
      opts.signal.throwIfAborted();
      opts.onNotice?.(`the pooled VM did not answer (${errorMessage(err).split('\n')[0]}); starting one`);
      return undefined;
    }
  }

  /**
   * Restores a clone of the backend's warm snapshot for this image and VM shape (vm/warm-snapshots.ts),
   * creating the snapshot first if there is none. Any failure falls back to a cold boot (undefined) with a
   * notice; a snapshot that failed to restore is removed so that the next run rebuilds it.
   */
  private static async warmStart(
    warm: WarmSnapshots,
    choice: BackendChoice,
    image: CachedImage,
    spec: VmSpec,
    dir: OwnedInstanceDir,
    opts: SessionOptions,
    trace: StartTrace,
  ): Promise<VmSession | undefined> {
    const key = await warm.key(image, spec, choice.accel);
    let snap = warm.find(image, key, (why) =>
      opts.onNotice?.(`the warm snapshot ${key.id} is unusable (${why}): removed it, making a new one`),
    );
    trace.mark(snap ? 'snapshot found' : 'no snapshot yet');
    if (!snap) {
      opts.onNotice?.(
        'preparing a warm snapshot for fast starts (once per image and VM size; later starts take a fraction of a second)',
      );
      opts.onPhase?.('snapshotting');
      const templateDir = createInstanceDir(opts.paths.vmsDir, `tpl-${randomBytes(3).toString('hex')}`);
      try {
        snap = await warm.create({
          image,
          key,
          accel: choice.accel,
          vmDir: templateDir,
          signal: opts.signal,
          timeoutMs: opts.bootTimeoutMs ?? BOOT_TIMEOUT_MS,
          // The template's shared-folder slots stay idle: its clones get their own dirs in them.
          spec: { ...spec, name: templateDir.name, mounts: [] },
        });
      } catch (err) {
        opts.signal.throwIfAborted();
        opts.onNotice?.(`${errorMessage(err)}; booting cold`);
        return undefined;
      } finally {
        templateDir.remove();
      }
    }
    const restored = warm.restore(snap, spec, dir, choice.accel, trace.mark);
    const session = new VmSession({
      name: spec.name,
      dir,
      driver: restored.driver,
      choice,
      image,
      opts: { ...opts, bootTimeoutMs: RESTORE_TIMEOUT_MS },
      spec: restored.spec,
      trace,
      restoredFrom: snap.key,
    });
    try {
      await session.boot({ restored: true });
      return session;
    } catch (err) {
      // The claimed directory stays (the cold boot uses it); only what the restore put in it goes.
      await session.close({ keepDir: true });
      dir.empty([OWNER_FILE]);
      opts.signal.throwIfAborted();
      warm.remove(snap);
      opts.onNotice?.(
        `restoring the warm snapshot failed (${errorMessage(err).split('\n')[0]}); removed it, booting cold`,
      );
      return undefined;
    }
  }

  /**
   * Resumes a suspended kept VM: its saved RAM and devices loaded onto its kept disk, and the control
   * handshake gives it the current time and fresh entropy as a clone gets, but keeps its keys (the same
   * VM: the client key it was saved with, and the host key pinned then, which it must answer with).
   * Undefined (after a notice, with the state removed) when the state does not fit or fails to load:
   * the caller boots the kept disk cold, which the failed attempt has not written.
   */
  private static async resumeStart(
    { resume, factory, keptDisk }: { resume: SessionResume; factory: ResumeFactory; keptDisk: { open(): KeptDisk } },
    choice: BackendChoice,
    image: CachedImage,
    spec: VmSpec,
    dir: OwnedInstanceDir,
    opts: SessionOptions,
    trace: StartTrace,
  ): Promise<VmSession | undefined> {
    const cannot = (why: string): undefined => {
      resume.discard();
      opts.onNotice?.(
        `VM ${spec.name}'s saved state cannot be resumed (${why}): booting it cold from its disk, which is kept as it was`,
      );
      return undefined;
    };
    const identity = await factory.resumeIdentity(spec, choice.accel);
    if (identity !== resume.identity) return cannot(`it was saved by ${resume.identity}, this is ${identity}`);
    if (image.id !== resume.imageId) return cannot(`it ran image ${resume.imageId}, the image now is ${image.id}`);
    trace.mark('saved state found');
    const verified = resume.verify();
    verified.catch(() => undefined); // awaited by the driver before it loads anything
    const driver = factory.createResumed(spec, dir, choice.accel, keptDisk.open(), {
      statePath: resume.statePath,
      verified,
      onMark: trace.mark,
    });
    const session = new VmSession({
      name: spec.name,
      dir,
      driver,
      choice,
      image,
      opts: { ...opts, bootTimeoutMs: RESTORE_TIMEOUT_MS },
      spec,
      trace,
      restoredFrom: 'saved state',
    });
    try {
      await session.boot({ restored: false, pinnedHostKey: resume.hostKey });
      resume.discard();
      return session;
    } catch (err) {
      await session.close({ keepDir: true });
      dir.empty([OWNER_FILE]);
      opts.signal.throwIfAborted();
      return cannot(errorMessage(err).split('\n')[0] ?? 'it did not load');
    }
  }

  /** The guest's host key, pinned from the control handshake. */
  hostKey: string | undefined;
  /** The client key this session logs in with: made here, the caller's, or the one a pool keeper made for this claim. */
  clientKey: ClientKey | undefined;
  private bootStartedAt = 0;

  private async boot(how: { restored: boolean; pinnedHostKey?: string; prepared?: PreparedSession }): Promise<void> {
    const { signal } = this.opts;
    const timeoutMs = this.opts.bootTimeoutMs ?? BOOT_TIMEOUT_MS;
    const t0 = (this.bootStartedAt = Date.now());
    this.setPhase('booting');
    const owner = (): OwnerRecord =>
      ({
        host: identify(process.pid) ?? { pid: process.pid, start: 0 },
        ...(this.driver.pid ? { vmm: identify(this.driver.pid) } : {}),
        ...(this.driver.helperPids?.length
          ? { helpers: this.driver.helperPids.map((pid) => identify(pid)).filter((id) => id !== undefined) }
          : {}),
        ...(this.driver.origin ? { origin: this.driver.origin } : {}),
        backend: this.driver.backend,
        createdAt: new Date().toISOString(),
      }) as OwnerRecord;
    writeOwner(this.dir.file(OWNER_FILE), owner());
    // From here on, the VMM dying is a first-class outcome of every await.
    const died = this.driver.exited.then(async (e) => {
      this.connectionGone = true;
      // A VMM that exits 0 by itself was ended from inside: QEMU runs with -no-reboot, so the guest's
      // poweroff, reboot and kernel panic (panic=-1 reboots) all end it that way. Not a crash of the VMM.
      const how =
        e.code === 0 && !e.signal
          ? `shut down from inside (a poweroff, reboot or kernel panic in the guest ends its ${this.choice.factory.name} process)`
          : `died: its ${this.choice.factory.name} process exited unexpectedly (${describeExit(e)})`;
      const err = new SessionVmLostError(
        `the VM ${this.name} ${how}. Last console lines:\n${escapeControlLines(await this.driver.consoleTail(8)) || '(none)'}`,
      );
      if (this._phase !== 'closing' && this._phase !== 'closed') this.resolveLost(err);
      return err;
    });
    const orDied = async <T>(p: Promise<T>): Promise<T> => await Promise.race([p, died.then((e) => Promise.reject(e))]);

    // A pooled clone's keeper offered this claim's session already: attach to it, unless the caller brings
    // a key of its own (a named VM keeps its per-VM key), which needs an offer of its own.
    const prepared = this.opts.clientKey ? undefined : how.prepared;
    const key = prepared?.clientKey ?? this.opts.clientKey ?? generateClientKey();
    this.clientKey = key;
    // A restored clone runs the moment QEMU has loaded its state, so its streams are connected while the
    // VMM still starts, and the offer and SSH's first bytes are already waiting when the guest looks.
    // With a host key made here (a clone must not keep its template's) SSH need not wait for the offer's
    // answer: the agent holds SSH until the offer is applied (control.ts `template`), and we pin our key.
    const early = new AbortController();
    // A resumed VM keeps its host key: pinned before it was saved, so SSH starts alongside the offer too.
    const opening = prepared
      ? this.openGuest(key, { attach: prepared.hostKey }, AbortSignal.any([signal, early.signal]), timeoutMs)
      : how.restored
        ? this.openGuest(key, generateGuestHostKey(), AbortSignal.any([signal, early.signal]), timeoutMs, {
            // A pooled clone whose keeper offered a session serves SSH with that session's keys until ours
            // is applied: an SSH stream opened alongside our offer could meet the keeper's host key.
            sshAfterReady: how.prepared !== undefined,
          })
        : how.pinnedHostKey
          ? this.openGuest(key, { pinned: how.pinnedHostKey }, AbortSignal.any([signal, early.signal]), timeoutMs)
          : undefined;
    opening?.catch(() => undefined); // awaited below; a failed start wins
    try {
      await this.driver.start(signal);
    } catch (err) {
      early.abort(err);
      throw err;
    }
    writeOwner(this.dir.file(OWNER_FILE), owner());
    const { ready, ssh } = await orDied(opening ?? this.openGuest(key, undefined, signal, timeoutMs));
    this.ssh = ssh;
    this.hostKey = ready.hostKey;
    this.trace.mark('ssh authenticated');
    this.ssh.on('error', (err) =>
      this.sshLost(new SessionVmLostError(`SSH connection to the guest failed: ${err.message}`, { cause: err })),
    );
    this.ssh.on('end', () => (this.connectionGone = true));
    this.ssh.on('close', () => {
      this.connectionGone = true;
      if (this._phase === 'ready')
        this.sshLost(new SessionVmLostError('the SSH connection to the guest closed unexpectedly'));
    });
    this.control?.on('agent-exited', () => this.opts.onNotice?.('the guest agent crashed; it is being restarted'));
    this.timings.readyMs = Date.now() - t0;
    writeVmRecord(this.dir.path, {
      name: this.name,
      backend: this.driver.backend,
      accel: this.driver.accel,
      vcpus: this.spec.vcpus,
      memoryMiB: this.spec.memoryMiB,
      imageId: this.image.id,
      startedAt: t0,
      readyMs: this.timings.readyMs,
      supervised: this.opts.supervised ?? false,
      ...(this.restoredFrom ? { restoredFrom: this.restoredFrom } : {}),
      ...(this.opts.keptDisk ? { keep: true } : {}),
      ...(this.spec.mounts?.length ? { mounts: this.spec.mounts.map((m) => ({ ...m })) } : {}),
    });
    this.setPhase('ready');
  }

  /**
   * The control handshake and the SSH connection. Without a host key of ours, SSH waits for the agent's
   * answer to learn the key to pin; with one, both go at once.
   */
  private async openGuest(
    key: ClientKey,
    hostKey: OpenSshKeyPair | { pinned: string } | { attach: string } | undefined,
    signal: AbortSignal,
    timeoutMs: number,
    opts: { sshAfterReady?: boolean } = {},
  ): Promise<{ ready: Ready; ssh: ssh2.Client }> {
    const given = hostKey && 'privatePem' in hostKey ? hostKey : undefined;
    const attach = hostKey && 'attach' in hostKey ? hostKey.attach : undefined;
    const pinned = hostKey && 'pinned' in hostKey ? hostKey.pinned : (attach ?? given?.publicOpenSsh);
    const mark = this.trace.mark;
    this.setPhase('handshake');
    const handshake = (async () => {
      const stream = await this.driver.channel('control').connect({ signal, timeoutMs });
      mark('control connected');
      this.control = new HostControl(stream);
      const { ready } = await (
        attach
          ? this.control.attach({ expectHostKey: attach, signal, timeoutMs, onMark: mark })
          : this.control.handshake({
              clientKey: key.publicOpenSsh,
              ...(given ? { hostKey: given } : {}),
              ...(pinned ? { expectHostKey: pinned } : {}),
              // Mounted by the agent before it serves SSH: they are there before the first prompt.
              ...(hasSharedFolders(this.driver) ? { mounts: this.driver.guestMounts() } : {}),
              signal,
              timeoutMs,
              onMark: mark,
            })
      ).catch(async (err: unknown) => {
        throw new SessionBootError(
          `the guest agent did not come up: ${errorMessage(err)}. Last console lines:\n${escapeControlLines(await this.driver.consoleTail(8)) || '(none)'}`,
          { cause: err },
        );
      });
      this.timings.agentMs = Date.now() - this.bootStartedAt;
      return ready;
    })();
    const connect = async (pinnedHostKey: string): Promise<ssh2.Client> => {
      const { connectSsh } = await loadSshClient();
      const sock = await this.driver.channel('ssh').connect({ signal, timeoutMs });
      mark('ssh channel connected');
      return await connectSsh({ sock, privateKey: key.privateKey, pinnedHostKey, timeoutMs, onMark: mark });
    };
    if (!pinned || opts.sshAfterReady) {
      const ready = await handshake;
      this.setPhase('ssh');
      return { ready, ssh: await connect(ready.hostKey) };
    }
    const sshP = connect(pinned);
    sshP.catch(() => undefined); // awaited below, after the handshake, whose failure says more
    try {
      const ready = await handshake;
      this.setPhase('ssh');
      return { ready, ssh: await sshP };
    } catch (err) {
      void sshP.then(
        (c) => c.end(),
        () => undefined,
      ); // not left connected behind a failed handshake
      throw err;
    }
  }

  /**
   * SSH breaks a moment before the VMM's exit is reaped when the VMM dies: give that, the precise reason
   * (with the console tail), the chance to settle `lost` first.
   */
  private sshLost(err: Error): void {
    void Promise.race([this.driver.exited, new Promise((r) => setTimeout(r, 1000).unref())]).then(() =>
      setTimeout(() => this.resolveLost(err), 0),
    );
  }

  /**
   * For a command whose shell has just ended: why, if the VM or the SSH connection to it went with the shell
   * (the caller reports that, exit 79, instead of a shell status); undefined if the VM is still there.
   * ssh2 ends the connection before it closes its channels, so a shell ended by the VM's death always finds
   * `connectionGone` set; only then is it worth waiting for the precise reason (the VMM's exit, console tail).
   */
  async lostAfterShell(): Promise<Error | undefined> {
    if (!this.connectionGone) return undefined;
    const fallback = new SessionVmLostError(`the SSH connection to the VM ${this.name} closed while its shell ran`);
    return await Promise.race([
      this.lost,
      new Promise<Error>((r) => setTimeout(() => r(fallback), LOST_REASON_WAIT_MS).unref()),
    ]);
  }

  /** Idempotent teardown: nothing of the VM survives it (a kept disk lives outside the per-VM dir). */
  close(how: { keepDir?: boolean } = {}): Promise<void> {
    this.closing ??= (async () => {
      this.setPhase('closing');
      try {
        this.ssh?.end();
        // Firecracker: the agent's reboot ends the VMM cleanly (reboot=k); the driver's own stop
        // (Ctrl-Alt-Del, TERM, KILL) follows as a fallback. QEMU's QMP quit needs no guest help.
        if (this.driver.backend === 'firecracker') this.control?.requestPoweroff();
        else this.control?.close();
        await this.driver.stop();
      } finally {
        if (!how.keepDir) this.dir.remove();
        this.setPhase('closed');
      }
    })();
    return this.closing;
  }
}
