/**
 * Warm snapshots for QEMU: boot a template VM once to agent-ready, stop it, and save its device state
 * (QMP migrate to a file) next to its RAM and the disk it had at that instant. The template's RAM is a
 * shared file mapping from the start (memory.bin), so the migration stream skips it (x-ignore-shared) and
 * is only a few hundred KiB. A clone maps memory.bin private (copy-on-write) and loads the device state:
 * it runs without reading its RAM up front, and clones share the pages they have not written. Each clone
 * has its own qcow2 layer over the snapshot's disk; the control handshake then gives it a new host key,
 * the current time and fresh entropy.
 *
 * Snapshots live inside the image's cache dir (images/<id>/snapshots/<key>/), so removing the image removes
 * them. The key covers everything a migration stream depends on: image, QEMU version, vCPUs, memory, accel,
 * the CPU model, the guest network profile and the layout of our command line (snapshot-layout.ts). A snapshot is published only complete (temp dir + rename).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { isAbandoned } from '../../store/temp-dir.js';
import { FC_SNAPSHOT_PREFIX, SNAPSHOT_TMP_PREFIX as TMP_PREFIX } from '../warm-snapshots.js';
import { basename, join } from 'node:path';
import { GhostError } from '../../../shared/errors.js';
import type { CachedImage } from '../../image/cache.js';
import type { InstanceDir, VmSpec } from '../driver.js';
import type { QemuDriver } from './driver.js';
import type { QemuHost } from './qemu-host.js';
import { shellQuote } from '../../shell-quote.js';
import { publishSnapshot } from '../snapshot-publisher.js';
import { qemuSnapshotLayout } from './snapshot-layout.js';
import type { NetProfile } from '../../../shared/guest-net.js';

export class SnapshotError extends GhostError {
  readonly code = 'SNAPSHOT_FAILED';
}

export interface SnapshotMeta {
  key: string;
  imageId: string;
  qemuVersion: string;
  vcpus: number;
  memoryMiB: number;
  accel: string;
  /** The CPU model the guest saw: the host's under KVM, 'tcg' otherwise (QEMU's own, fixed by its version). */
  cpuModel: string;
  /** The guest network: a template with a NIC (configured by its init) serves only clones of that profile. */
  net: NetProfile;
  /** qemuSnapshotLayout(): a hash of the template's command line with per-VM paths and size left out. */
  layout: string;
  stateBytes: number;
  /** The template's disk (qcow2): a truncated one would give clones a corrupt root fs. */
  diskBytes: number;
  createdAt: string;
}

export interface QemuSnapshot {
  dir: string;
  state: string;
  /** The template's RAM, which clones map copy-on-write: it must stay unmodified while any clone runs. */
  memory: string;
  disk: string;
  meta: SnapshotMeta;
}

export function snapshotKey(
  parts: Omit<SnapshotMeta, 'key' | 'stateBytes' | 'diskBytes' | 'createdAt' | 'layout'>,
): string {
  return createHash('sha256')
    .update(JSON.stringify({ ...parts, layout: qemuSnapshotLayout(parts.accel, parts.net) }))
    .digest('hex')
    .slice(0, 16);
}

const files = (dir: string) => ({
  state: join(dir, 'state.bin'),
  memory: join(dir, 'memory.bin'),
  disk: join(dir, 'disk.qcow2'),
  meta: join(dir, 'meta.json'),
});

export function snapshotsDir(image: CachedImage): string {
  return join(image.dir, 'snapshots');
}

/** A snapshot dir's meta.json as written, or undefined if it cannot be read. */
function readMeta(dir: string): Partial<SnapshotMeta> | undefined {
  try {
    return JSON.parse(readFileSync(files(dir).meta, 'utf8')) as Partial<SnapshotMeta>;
  } catch {
    return undefined;
  }
}

/** Why the snapshot in `dir` may not be used for `key`, or undefined if it may. */
function unusable(dir: string, key: string, image: CachedImage): string | undefined {
  const meta = readMeta(dir);
  if (!meta) return 'meta.json missing or not JSON';
  if (meta.key !== key || meta.imageId !== image.id || meta.layout !== layoutOf(meta))
    return 'made for another key, image or command-line layout';
  if (typeof meta.diskBytes !== 'number' || typeof meta.memoryMiB !== 'number')
    return 'meta.json records no disk size (made by an older version)';
  const f = files(dir);
  const want: Array<[string, number | undefined]> = [
    [f.state, meta.stateBytes],
    [f.memory, meta.memoryMiB * 1024 * 1024],
    [f.disk, meta.diskBytes],
  ];
  for (const [file, bytes] of want) {
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      return `${basename(file)} is missing`;
    }
    if (size !== bytes) return `${basename(file)} is ${size} bytes, ${bytes ?? 'no size'} recorded`;
  }
  return undefined;
}

/**
 * A usable snapshot for `key`, or undefined; one that is stale or damaged (a file missing or not the size
 * recorded when it was saved) is removed, and `onDiscard` told why.
 */
export function findSnapshot(
  image: CachedImage,
  key: string,
  onDiscard?: (why: string) => void,
): QemuSnapshot | undefined {
  const dir = join(snapshotsDir(image), key);
  if (!existsSync(dir)) return undefined;
  const why = unusable(dir, key, image);
  if (why !== undefined) {
    removeSnapshot(dir);
    onDiscard?.(why);
    return undefined;
  }
  const f = files(dir);
  return { dir, state: f.state, memory: f.memory, disk: f.disk, meta: readMeta(dir) as SnapshotMeta };
}

/**
 * Removes this image's QEMU snapshots that can never match again (another QEMU, CPU model or layout:
 * their RAM files are hundreds of MB each) and the temp dirs of creations whose process died. Snapshots
 * for other VM sizes stay; Firecracker's (fc-*) are not ours to judge.
 */
export function sweepStaleSnapshots(image: CachedImage, current: Pick<SnapshotMeta, 'qemuVersion' | 'cpuModel'>): void {
  const root = snapshotsDir(image);
  if (!existsSync(root)) return;
  for (const name of readdirSync(root)) {
    if (name.startsWith(FC_SNAPSHOT_PREFIX) || name.startsWith(`${TMP_PREFIX}${FC_SNAPSHOT_PREFIX}`)) continue;
    const dir = join(root, name);
    if (name.startsWith(TMP_PREFIX)) {
      if (isAbandoned(name, TMP_PREFIX)) removeSnapshot(dir);
      continue;
    }
    const meta = readMeta(dir);
    if (
      !meta ||
      meta.layout !== layoutOf(meta) ||
      meta.qemuVersion !== current.qemuVersion ||
      meta.cpuModel !== current.cpuModel
    )
      removeSnapshot(dir);
  }
}

/** The layout a snapshot of this accel and network would have if it were made now (undefined: meta too broken to tell). */
function layoutOf(meta: Partial<SnapshotMeta>): string | undefined {
  return typeof meta.accel === 'string' ? qemuSnapshotLayout(meta.accel, meta.net ?? 'none') : undefined;
}

export function removeSnapshot(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface CreateSnapshotOptions {
  factory: QemuHost;
  image: CachedImage;
  spec: VmSpec;
  accel: 'kvm' | 'tcg';
  meta: Omit<SnapshotMeta, 'stateBytes' | 'diskBytes' | 'createdAt' | 'layout'>;
  /** A scratch per-VM dir for the template's sockets and logs. */
  vmDir: InstanceDir;
  signal: AbortSignal;
  timeoutMs: number;
}

/** Boots the template, waits for the agent, saves RAM + device state + disk, publishes atomically. */
export function createSnapshot(opts: CreateSnapshotOptions): Promise<QemuSnapshot> {
  const root = snapshotsDir(opts.image);
  sweepStaleSnapshots(opts.image, opts.meta);
  return publishSnapshot({
    root,
    key: opts.meta.key,
    find: () => findSnapshot(opts.image, opts.meta.key),
    fail: (message, cause) => new SnapshotError(message, cause === undefined ? undefined : { cause }),
    isOwnError: (err) => err instanceof SnapshotError,
    build: async (tmp) => {
      const f = files(tmp);
      let driver: QemuDriver | undefined;
      try {
        driver = opts.factory.create(opts.spec, opts.vmDir, opts.accel, {
          overlayPath: f.disk,
          templateMemoryPath: f.memory,
        });
        await driver.start(opts.signal);
        const { warmUpTemplate } = await import('../template-warmup.js');
        await warmUpTemplate(driver, { signal: opts.signal, timeoutMs: opts.timeoutMs });
        // Saved running: a clone then runs the moment its state is loaded, with no QMP `cont` to wait for.
        // The stream holds device state only (RAM is memory.bin); QEMU stops the guest for the final part.
        const qmp = driver.monitor;
        await qmp.execute('migrate-set-capabilities', {
          capabilities: [{ capability: 'x-ignore-shared', state: true }],
        });
        await qmp.execute('migrate', { uri: `exec:cat > ${shellQuote([f.state])}` });
        for (;;) {
          const info = (await qmp.execute('query-migrate')) as { status?: string; 'error-desc'?: string };
          if (info.status === 'completed') break;
          if (info.status === 'failed' || info.status === 'cancelled')
            throw new SnapshotError(`QEMU could not save the snapshot: ${info['error-desc'] ?? info.status}`);
          await sleep(20);
        }
      } finally {
        await driver?.stop();
      }
      const meta: SnapshotMeta = {
        ...opts.meta,
        layout: qemuSnapshotLayout(opts.meta.accel, opts.meta.net),
        stateBytes: statSync(f.state).size,
        diskBytes: statSync(f.disk).size,
        createdAt: new Date().toISOString(),
      };
      writeFileSync(f.meta, `${JSON.stringify(meta, null, 2)}\n`);
      return { sealed: [f.state, f.disk, f.meta], vmmWritable: [f.memory] };
    },
  });
}
