/**
 * Warm snapshots as a backend capability: a template VM booted once to agent-ready and saved, so that later
 * VMs restore a clone of it instead of booting. The session (session.ts `warmStart`) owns the policy that
 * is the same for every backend — find or create, restore, fall back to a cold boot with a notice and
 * remove a snapshot that failed — and each backend implements only what differs: what the key covers,
 * how a snapshot is validated, created and restored.
 *
 * Snapshots live in the image's cache dir (images/<id>/snapshots/<key>/), so deleting the image deletes
 * them, and are published only complete (temp dir + rename).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CachedImage } from '../image/cache.js';
import { removeAbandoned } from '../store/temp-dir.js';
import type { MarkFn } from '../trace.js';
import type { Accel, InstanceDir, VmDriver, VmDriverFactory, VmSpec } from './driver.js';

/** What a snapshot depends on, resolved once per start; `id` names its directory. */
export interface WarmKey {
  readonly id: string;
}

export interface WarmSnapshot {
  /** The key's id: recorded as the VM's `restoredFrom`. */
  readonly key: string;
  /** The snapshot's directory (removed as a whole when it fails to restore). */
  readonly dir: string;
}

export interface WarmTemplateRequest<K extends WarmKey> {
  readonly image: CachedImage;
  readonly key: K;
  /** The template VM's spec (its own name). */
  readonly spec: VmSpec;
  readonly accel: Accel;
  /** A scratch per-VM dir for the template's sockets and logs; the caller removes it. */
  readonly vmDir: InstanceDir;
  readonly signal: AbortSignal;
  readonly timeoutMs: number;
}

export interface WarmRestore {
  /** A driver whose start() restores the clone instead of booting. */
  readonly driver: VmDriver;
  /** The spec the clone runs with (e.g. its root disk is the snapshot's). */
  readonly spec: VmSpec;
}

export interface WarmSnapshots<K extends WarmKey = WarmKey, S extends WarmSnapshot = WarmSnapshot> {
  /** The key for this image and VM shape on this VMM (version and whatever else the saved state depends on). */
  key(image: CachedImage, spec: VmSpec, accel: Accel): Promise<K>;
  /** A usable snapshot, or undefined; a stale or damaged one is removed, never returned, and `onDiscard` told why. */
  find(image: CachedImage, key: K, onDiscard?: (why: string) => void): S | undefined;
  /** Boots the template, warms it up, saves it and publishes it atomically (concurrent callers share one). */
  create(req: WarmTemplateRequest<K>): Promise<S>;
  restore(snapshot: S, spec: VmSpec, dir: InstanceDir, accel: Accel, onMark: MarkFn): WarmRestore;
  remove(snapshot: S): void;
}

/** A factory whose VMs can be started warm. */
export interface WarmSnapshotFactory {
  warmSnapshots(): WarmSnapshots;
}

export function hasWarmSnapshots(factory: VmDriverFactory): factory is VmDriverFactory & WarmSnapshotFactory {
  return typeof (factory as Partial<WarmSnapshotFactory>).warmSnapshots === 'function';
}

/** Firecracker's snapshots sit next to QEMU's in the image's snapshots dir, under this prefix. */
export const FC_SNAPSHOT_PREFIX = 'fc-';

/**
 * Snapshots being created (or left by a killed creator) in the snapshots dir, by either backend:
 * `.tmp-<key>-<pid>-<start>-<random>`, named by store/temp-dir.ts so that `clean` can tell which are abandoned.
 */
export const SNAPSHOT_TMP_PREFIX = '.tmp-';

/**
 * The VM a snapshot layout is computed for (qemu/snapshot-layout.ts, firecracker/warm-store.ts): paths as
 * placeholders and a fixed size, so that the layout names only the VMM configuration, not one VM.
 */
export const LAYOUT_TEMPLATE_SPEC: VmSpec = {
  name: 'template',
  vcpus: 1,
  memoryMiB: 256,
  kernelPath: '/<kernel>',
  initrdPath: '/<initrd>',
  rootfsPath: '/<rootfs>',
};

/** A layout: the first 16 hex digits of the SHA-256 of the VMM configuration's JSON. */
export function layoutHash(configuration: unknown): string {
  return createHash('sha256').update(JSON.stringify(configuration)).digest('hex').slice(0, 16);
}

/**
 * `clean`: removes the snapshot creations, of every image and backend, whose creator is gone (a template
 * killed mid-way leaves its RAM file: hundreds of MB). A live creation is never touched. Returns
 * `<image id>/snapshots/<name>` of each.
 */
export function removeAbandonedSnapshotBuilds(
  imagesDir: string,
  onError?: (path: string, err: unknown) => void,
): string[] {
  if (!existsSync(imagesDir)) return [];
  return readdirSync(imagesDir)
    .filter((id) => !id.startsWith('.'))
    .flatMap((id) =>
      removeAbandoned(join(imagesDir, id, 'snapshots'), SNAPSHOT_TMP_PREFIX, onError ? { onError } : {}).map(
        (name) => `${id}/snapshots/${name}`,
      ),
    );
}
