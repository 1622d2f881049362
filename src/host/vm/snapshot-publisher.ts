/**
 * How a warm snapshot gets into the cache, for every backend: one template per snapshot at a time in
 * this process (concurrent sessions wait for it instead of racing), built in its own temp dir beside the
 * published ones (store/temp-dir.ts names it, so `clean` can tell a killed creator's leftovers), sealed,
 * renamed into place only complete, and checked again once published. Each backend supplies only what
 * differs: how the template is booted and saved, which files it wrote, and how a published snapshot is
 * read back and validated.
 *
 * File modes, one policy: a snapshot file is read-only and world-readable (0444), as cached images are,
 * so that a jailed VMM can open a hard link to it (vm/firecracker/disk.ts linkOrClone); a file its VMM
 * must open read-write even though nothing writes it (QEMU maps the template RAM from a
 * memory-backend-file, which QEMU 7.2 opens O_RDWR even with share=off) is owner-only (0600) instead.
 * The snapshot dir itself is 0755, like the image dir it lives in.
 */
import { chmodSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tempDirName } from '../store/temp-dir.js';
import { SNAPSHOT_TMP_PREFIX } from './warm-snapshots.js';

export const SNAPSHOT_FILE_MODE = 0o444;
export const SNAPSHOT_VMM_WRITABLE_MODE = 0o600;
export const SNAPSHOT_DIR_MODE = 0o755;

export interface PublishRequest<S> {
  /** The image's snapshots dir. */
  readonly root: string;
  /** The published snapshot's dir name. */
  readonly key: string;
  /**
   * Boots the template and saves it into `tmp`; returns the files written there: `sealed` are made
   * read-only, `vmmWritable` owner-only (see the policy above).
   */
  build(tmp: string): Promise<{ sealed: readonly string[]; vmmWritable?: readonly string[] }>;
  /** Reads back and validates the published snapshot (undefined: missing or damaged). */
  find(): S | undefined;
  /** The backend's error for `message` (wrapping `cause`, if any). */
  fail(message: string, cause?: unknown): Error;
  /** Whether `err` is already the backend's own error (then it is passed on as it is). */
  isOwnError(err: unknown): boolean;
  readonly signal?: AbortSignal;
}

/** Snapshots being created by this process, by their published path. */
const inFlight = new Map<string, Promise<unknown>>();

export function publishSnapshot<S>(req: PublishRequest<S>): Promise<S> {
  const id = join(req.root, req.key);
  let p = inFlight.get(id) as Promise<S> | undefined;
  if (!p) {
    p = publishOnce(req).finally(() => inFlight.delete(id));
    inFlight.set(id, p);
  }
  return p;
}

async function publishOnce<S>(req: PublishRequest<S>): Promise<S> {
  mkdirSync(req.root, { recursive: true });
  const tmp = join(req.root, tempDirName(SNAPSHOT_TMP_PREFIX, req.key));
  mkdirSync(tmp, { mode: 0o700 });
  try {
    const written = await req.build(tmp);
    for (const file of written.sealed) chmodSync(file, SNAPSHOT_FILE_MODE);
    for (const file of written.vmmWritable ?? []) chmodSync(file, SNAPSHOT_VMM_WRITABLE_MODE);
    chmodSync(tmp, SNAPSHOT_DIR_MODE);
    try {
      renameSync(tmp, join(req.root, req.key));
    } catch {
      // Another process published the same snapshot first: use theirs (checked below like our own).
      rmSync(tmp, { recursive: true, force: true });
    }
    const found = req.find();
    if (found === undefined)
      throw req.fail(`warm snapshot ${req.key} in ${req.root} vanished or was damaged right after it was saved`);
    return found;
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    req.signal?.throwIfAborted();
    throw req.isOwnError(err) ? err : req.fail(`could not create a warm snapshot: ${(err as Error).message}`, err);
  }
}
