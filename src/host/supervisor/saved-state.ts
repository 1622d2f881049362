/**
 * A suspended VM's saved state, beside its kept disk in `<state>/vms/<name>/` (0700):
 *   saved-state.bin    the VMM's saved RAM and device state (0600)
 *   saved-state.json   what it was saved for, its size and SHA-256, the disk's size and mtime at the
 *                      save, and the VM's keys: the per-VM client key and the pinned host key (0600)
 * A state is used at most once: it is removed when the VM resumes, when a resume fails, and whenever it
 * no longer fits (another VMM version or layout, another size or image, a disk changed since, a file
 * damaged), and then the VM boots cold from its kept disk.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as v from 'valibot';
import { writeFileAtomic } from '../store/atomic-file.js';
import { assertPrivateDir } from '../store/private-dir.js';
import type { GhostPaths } from '../store/paths.js';
import { KEPT_DISK, keptDir } from './kept.js';

export const SAVED_STATE_FILES = { state: 'saved-state.bin', meta: 'saved-state.json' } as const;

const SavedStateMetaSchema = v.strictObject({
  format: v.literal(1),
  backend: v.picklist(['qemu', 'firecracker']),
  /** ResumeFactory.resumeIdentity() at the save: the VMM version and the machine's layout. */
  identity: v.string(),
  imageId: v.string(),
  vcpus: v.number(),
  memoryMiB: v.number(),
  net: v.string(),
  stateBytes: v.number(),
  stateSha256: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)),
  disk: v.strictObject({ bytes: v.number(), mtimeMs: v.number() }),
  clientPrivateKey: v.pipe(v.string(), v.startsWith('-----BEGIN OPENSSH PRIVATE KEY-----')),
  clientPublicKey: v.pipe(v.string(), v.startsWith('ssh-ed25519 ')),
  hostKey: v.pipe(v.string(), v.regex(/^ssh-ed25519 [A-Za-z0-9+/]+={0,2}$/)),
  savedAt: v.string(),
});
export type SavedStateMeta = v.InferOutput<typeof SavedStateMetaSchema>;

export interface SavedState {
  readonly statePath: string;
  readonly meta: SavedStateMeta;
}

export type SavedStateLookup =
  { state: 'none' } | { state: 'ok'; saved: SavedState } | { state: 'unusable'; why: string };

export function savedStatePaths(paths: GhostPaths, name: string): { state: string; meta: string; disk: string } {
  const dir = keptDir(paths, name);
  return {
    state: join(dir, SAVED_STATE_FILES.state),
    meta: join(dir, SAVED_STATE_FILES.meta),
    disk: join(dir, KEPT_DISK),
  };
}

/** The saved state's size in bytes (for `ps`), or undefined if the VM has none. */
export function savedStateBytes(paths: GhostPaths, name: string): number | undefined {
  try {
    statSync(savedStatePaths(paths, name).meta);
    return statSync(savedStatePaths(paths, name).state).size;
  } catch {
    return undefined;
  }
}

/** Reads the meta and checks what is cheap (sizes, the disk unchanged); the hash is verifyStateHash's. */
export function readSavedState(paths: GhostPaths, name: string): SavedStateLookup {
  assertPrivateDir(keptDir(paths, name));
  const f = savedStatePaths(paths, name);
  let text: string;
  try {
    text = readFileSync(f.meta, 'utf8');
  } catch {
    // A state file without its meta is the leftover of a save that did not finish.
    return fileExists(f.state) ? { state: 'unusable', why: `${SAVED_STATE_FILES.meta} is missing` } : { state: 'none' };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { state: 'unusable', why: `${SAVED_STATE_FILES.meta} is not JSON` };
  }
  const parsed = v.safeParse(SavedStateMetaSchema, json);
  if (!parsed.success)
    return {
      state: 'unusable',
      why: `${SAVED_STATE_FILES.meta} is invalid at ${v.getDotPath(parsed.issues[0]) ?? 'the top'}`,
    };
  const meta = parsed.output;
  const sizeOf = (file: string): number | undefined => {
    try {
      return statSync(file).size;
    } catch {
      return undefined;
    }
  };
  const stateBytes = sizeOf(f.state);
  if (stateBytes !== meta.stateBytes)
    return {
      state: 'unusable',
      why: `${SAVED_STATE_FILES.state} is ${stateBytes === undefined ? 'missing' : `${stateBytes} bytes`}; ${meta.stateBytes} were saved`,
    };
  let disk;
  try {
    disk = statSync(f.disk);
  } catch {
    return { state: 'unusable', why: `its disk ${KEPT_DISK} is missing` };
  }
  if (disk.size !== meta.disk.bytes || disk.mtimeMs !== meta.disk.mtimeMs)
    return { state: 'unusable', why: `its disk ${KEPT_DISK} has changed since the state was saved` };
  return { state: 'ok', saved: { statePath: f.state, meta } };
}

/** Resolves if the state file's SHA-256 is the one saved; rejects naming the file otherwise. */
export async function verifyStateHash(saved: SavedState): Promise<void> {
  const got = await sha256Of(saved.statePath);
  if (got !== saved.meta.stateSha256)
    throw new Error(`${SAVED_STATE_FILES.state} is damaged: its SHA-256 is not the one recorded when it was saved`);
}

/** After the VMM wrote `state`: records it (hash, the disk as it is now, the keys) so it can be resumed. */
export async function recordSavedState(
  paths: GhostPaths,
  name: string,
  meta: Omit<SavedStateMeta, 'format' | 'stateBytes' | 'stateSha256' | 'disk' | 'savedAt'>,
): Promise<SavedStateMeta> {
  const f = savedStatePaths(paths, name);
  const disk = statSync(f.disk);
  const full: SavedStateMeta = {
    format: 1,
    ...meta,
    stateBytes: statSync(f.state).size,
    stateSha256: await sha256Of(f.state),
    disk: { bytes: disk.size, mtimeMs: disk.mtimeMs },
    savedAt: new Date().toISOString(),
  };
  writeFileAtomic(f.meta, `${JSON.stringify(full, null, 2)}\n`, 0o600);
  return full;
}

/** The meta goes first: a state file alone is never resumed. */
export function removeSavedState(paths: GhostPaths, name: string): void {
  const f = savedStatePaths(paths, name);
  rmSync(f.meta, { force: true });
  rmSync(f.state, { force: true });
}

function fileExists(file: string): boolean {
  try {
    statSync(file);
    return true;
  } catch {
    return false;
  }
}

/** Read in chunks with the event loop free between them: a state is hundreds of MB. */
async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(8 << 20);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
      await new Promise((r) => setImmediate(r));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}
