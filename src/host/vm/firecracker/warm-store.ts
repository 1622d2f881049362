/**
 * Where Firecracker warm snapshots live and when one may be used: images/<id>/snapshots/fc-<key>/ holds
 * vm.vmstate, vm.mem, rootfs.ext4 (the template's disk, synced and copied while paused) and meta.json.
 *
 * The key covers everything the saved state depends on (docs/snapshotting/snapshot-support.md, "Where can
 * I resume my snapshots?": identical software and hardware): image, Firecracker version, vCPUs, memory,
 * jailer or not (drive paths are recorded relative to the VMM's root), host CPU model and kernel, and our
 * the layout of the configuration we give it (fcSnapshotLayout). A snapshot is used only if its meta matches the key and every file has the size
 * recorded at creation; anything else is removed. Snapshots of this image taken with another Firecracker,
 * CPU, host kernel or layout can never match again and are removed too (memory files are large).
 * Damage that keeps the sizes is caught by Firecracker's own CRC check on load (session.ts falls back).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { release } from 'node:os';
import { hostCpuModel } from '../host-cpu.js';
import { FC_SNAPSHOT_PREFIX, LAYOUT_TEMPLATE_SPEC, layoutHash, SNAPSHOT_TMP_PREFIX } from '../warm-snapshots.js';
import { removeAbandoned } from '../../store/temp-dir.js';
import { join } from 'node:path';
import type { CachedImage } from '../../image/cache.js';
import { SNAPSHOT_FILES, type VmSnapshot } from './snapshot.js';
import { bootRequests } from './boot-requests.js';
import { plainLayout } from './layout.js';
import type { NetProfile } from '../../../shared/guest-net.js';

/**
 * What decides whether saved state fits, apart from the versions and the host: the VM configuration we
 * give Firecracker. So the layout is a hash of the boot requests (boot source and arguments, drives,
 * machine config, vsock, logger) for a template, with per-VM paths as placeholders and the size fixed
 * (size is in the key; snapshots of other sizes must keep matching). Changing any of them makes old
 * snapshots stale by itself, with no version to remember to bump.
 */
export function fcSnapshotLayout(): string {
  return layoutHash(bootRequests(LAYOUT_TEMPLATE_SPEC, plainLayout('/<vm-dir>'), false));
}
export const META_FILE = 'meta.json';

export interface FcWarmParts {
  readonly imageId: string;
  readonly firecrackerVersion: string;
  readonly vcpus: number;
  readonly memoryMiB: number;
  readonly jailed: boolean;
  /** The guest network profile: the NIC is in the saved device state, and the guest's init set it up. */
  readonly net: NetProfile;
  readonly hostCpu: string;
  readonly hostKernel: string;
  /** fcSnapshotLayout() when the snapshot was made. */
  readonly layout: string;
}

/** The parts that describe this host and VMM rather than the VM: a snapshot differing in them is stale. */
const ENVIRONMENT: readonly (keyof FcWarmParts)[] = ['firecrackerVersion', 'hostCpu', 'hostKernel', 'layout'];

export interface FcSnapshotMeta extends FcWarmParts {
  readonly backend: 'firecracker';
  readonly key: string;
  readonly bytes: { readonly state: number; readonly mem: number; readonly disk: number };
  readonly createdAt: string;
}

export interface FcWarmSnapshotFiles {
  readonly dir: string;
  readonly vm: VmSnapshot;
  readonly meta: FcSnapshotMeta;
}

export function hostParts(): Pick<FcWarmParts, 'hostCpu' | 'hostKernel' | 'layout'> {
  return { hostCpu: hostCpuModel(), hostKernel: release(), layout: fcSnapshotLayout() };
}

export function fcSnapshotKey(parts: FcWarmParts): string {
  return FC_SNAPSHOT_PREFIX + createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
}

export function snapshotsDir(image: CachedImage): string {
  return join(image.dir, 'snapshots');
}

export function vmSnapshotIn(dir: string): VmSnapshot {
  return {
    backend: 'firecracker',
    dir,
    statePath: join(dir, SNAPSHOT_FILES.state),
    memPath: join(dir, SNAPSHOT_FILES.mem),
    diskPath: join(dir, SNAPSHOT_FILES.disk),
  };
}

export function fileBytes(vm: VmSnapshot): FcSnapshotMeta['bytes'] {
  return { state: statSync(vm.statePath).size, mem: statSync(vm.memPath).size, disk: statSync(vm.diskPath).size };
}

function readMeta(dir: string): FcSnapshotMeta | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, META_FILE), 'utf8')) as FcSnapshotMeta;
  } catch {
    return undefined;
  }
}

/** Why the snapshot in `dir` may not be used for `parts`, or undefined if it may. */
function unusable(dir: string, key: string, parts: FcWarmParts): string | undefined {
  const meta = readMeta(dir);
  if (!meta) return `${META_FILE} missing or not JSON`;
  if (meta.key !== key || meta.backend !== 'firecracker') return 'key mismatch';
  for (const [k, v] of Object.entries(parts)) if (meta[k as keyof FcWarmParts] !== v) return `${k} differs`;
  try {
    const now = fileBytes(vmSnapshotIn(dir));
    for (const f of ['state', 'mem', 'disk'] as const)
      if (now[f] !== meta.bytes[f]) return `${f} file is ${now[f]} bytes, ${meta.bytes[f]} recorded`;
  } catch (err) {
    return `a file is missing (${(err as Error).message})`;
  }
  return undefined;
}

export function removeFcSnapshot(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Removes this image's Firecracker snapshots that no run on this host and VMM can use any more, and abandoned creations. */
function sweepStale(image: CachedImage, parts: FcWarmParts, keep: string): void {
  const root = snapshotsDir(image);
  if (!existsSync(root)) return;
  removeAbandoned(root, SNAPSHOT_TMP_PREFIX, {
    which: (name) => name.startsWith(`${SNAPSHOT_TMP_PREFIX}${FC_SNAPSHOT_PREFIX}`),
  });
  for (const name of readdirSync(root)) {
    if (!name.startsWith(FC_SNAPSHOT_PREFIX) || name === keep) continue;
    const dir = join(root, name);
    const meta = readMeta(dir);
    if (!meta || ENVIRONMENT.some((k) => meta[k] !== parts[k])) removeFcSnapshot(dir);
  }
}

/** A usable snapshot for `parts`, or undefined; one that is stale or damaged is removed, never returned, and `onDiscard` told why. */
export function findFcSnapshot(
  image: CachedImage,
  parts: FcWarmParts,
  onDiscard?: (why: string) => void,
): FcWarmSnapshotFiles | undefined {
  const key = fcSnapshotKey(parts);
  sweepStale(image, parts, key);
  const dir = join(snapshotsDir(image), key);
  if (!existsSync(dir)) return undefined;
  const why = unusable(dir, key, parts);
  if (why !== undefined) {
    removeFcSnapshot(dir);
    onDiscard?.(why);
    return undefined;
  }
  return { dir, vm: vmSnapshotIn(dir), meta: readMeta(dir) as FcSnapshotMeta };
}
