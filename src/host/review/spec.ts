/**
 * `--review DIR[:GUEST_DIR]` and `--on-exit ask|apply|discard|patch:FILE`, parsed and checked before any
 * VM boots. DIR is the user's own choice: a symlink they name is resolved once, here, and the real path
 * is what is copied in and later written.
 */
import type { MountSpec } from '../workspace/mount-spec.js';
import { realpathSync, statSync } from 'node:fs';
import { dirname, posix, resolve } from 'node:path';
import { escapeControl } from '../../shared/escape-control.js';
import { ReviewInvalidError } from './errors.js';

export const DEFAULT_GUEST_DIR = '/work';
export const ON_EXIT_CHOICES = ['ask', 'apply', 'discard', 'patch:FILE'] as const;

export type OnExit = { kind: 'ask' } | { kind: 'apply' } | { kind: 'discard' } | { kind: 'patch'; file: string };

export interface ReviewSpec {
  /** The host directory, as a real absolute path. */
  hostDir: string;
  /** Where the guest sees it (absolute, normalized). */
  guestDir: string;
  onExit: OnExit;
  /** A read-only mount (Firecracker `-v HOST:GUEST:ro`): copied in, never applied, no review shown. */
  readOnly?: boolean;
}

/** Guest paths a workspace may not cover: the kernel's own file systems, and the root itself. */
const RESERVED_GUEST_DIRS = ['/proc', '/sys', '/dev'];

export function checkGuestDir(guestDir: string, what: string): string {
  if (!guestDir.startsWith('/'))
    throw new ReviewInvalidError(`${what}: guest directory ${escapeControl(guestDir)} is not absolute; use e.g. /work`);
  const norm = posix.normalize(guestDir).replace(/\/+$/, '');
  if (norm === '' || RESERVED_GUEST_DIRS.some((r) => norm === r || norm.startsWith(`${r}/`)))
    throw new ReviewInvalidError(
      `${what}: guest directory ${escapeControl(guestDir)} is the root or under /proc, /sys or /dev; choose another, e.g. /work`,
    );
  return norm;
}

export function checkHostDir(dir: string, what: string): string {
  let real: string;
  try {
    real = realpathSync(resolve(dir));
  } catch {
    throw new ReviewInvalidError(`${what}: host directory ${escapeControl(dir)} does not exist; create it first`);
  }
  if (!statSync(real).isDirectory())
    throw new ReviewInvalidError(`${what}: ${escapeControl(dir)} is a file, not a directory`);
  return real;
}

/** `--on-exit VALUE`. */
export function parseOnExit(value: string): OnExit {
  if (value === 'ask' || value === 'apply' || value === 'discard') return { kind: value };
  if (value.startsWith('patch:') && value.length > 'patch:'.length) {
    const file = resolve(value.slice('patch:'.length));
    try {
      if (!statSync(dirname(file)).isDirectory()) throw new Error('not a directory');
    } catch {
      throw new ReviewInvalidError(
        `--on-exit ${escapeControl(value)}: the directory of ${escapeControl(file)} does not exist; create it first`,
      );
    }
    return { kind: 'patch', file };
  }
  throw new ReviewInvalidError(
    `--on-exit ${escapeControl(value)}: expected one of ${ON_EXIT_CHOICES.join(', ')} (FILE: where the patch is written)`,
  );
}

/** `--review DIR[:GUEST_DIR]`: the last `:` followed by `/` splits; a DIR with a `:` in it works as `DIR:/work`. */
export function parseReview(value: string, onExit: string | undefined): ReviewSpec {
  const split = value.lastIndexOf(':/');
  const host = split > 0 ? value.slice(0, split) : value;
  const guest = split > 0 ? value.slice(split + 1) : DEFAULT_GUEST_DIR;
  if (host === '') throw new ReviewInvalidError(`--review ${escapeControl(value)}: no host directory before the ":"`);
  return {
    hostDir: checkHostDir(host, '--review'),
    guestDir: checkGuestDir(guest, '--review'),
    onExit: parseOnExit(onExit ?? 'ask'),
  };
}

/** `--on-exit` without `--review` means nothing: refused rather than ignored. */
export function onExitWithoutReview(onExit: string | undefined): void {
  if (onExit !== undefined)
    throw new ReviewInvalidError('--on-exit needs --review DIR (it says what to do with the changes made in DIR)');
}

/**
 * Firecracker has no shared file system: a `-v HOST:GUEST[:ro]` mount there is a copy made at start and
 * reviewed at the end like `--review HOST:GUEST`. A read-only one is copied in and never applied.
 */
export function reviewForMount(mount: MountSpec, onExit: OnExit = { kind: 'ask' }): ReviewSpec {
  const what = `-v ${mount.host}:${mount.guest}`;
  return {
    hostDir: checkHostDir(mount.host, what),
    guestDir: checkGuestDir(mount.guest, what),
    onExit: mount.readonly ? { kind: 'discard' } : onExit,
    ...(mount.readonly ? { readOnly: true } : {}),
  };
}

/** What `run` says when a Firecracker VM gets `-v` mounts. */
export function firecrackerMountNotice(mounts: readonly MountSpec[]): string {
  const list = mounts.map((m) => `${escapeControl(m.host)}:${escapeControl(m.guest)}${m.readonly ? ':ro' : ''}`);
  return (
    `Firecracker has no shared file system: ${list.join(', ')} ${mounts.length === 1 ? 'is' : 'are'} copied into the VM now, ` +
    'nothing in the VM writes to this machine while it runs, and when the session ends its changes are shown for ' +
    'review (as with --review) before anything is applied; read-only ones are never applied'
  );
}
