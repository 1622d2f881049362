/**
 * What `cp NAME:SRC DEST` accepts from the guest's SFTP server, as pure functions (fuzzed in
 * test/fuzz/sftp-names.test.ts). The server is guest code and may be replaced by root in the guest, so a
 * directory entry's name, type and mode are untrusted input: a name becomes exactly one new component under
 * a directory we proved, and a mode loses everything but the permission bits the user's umask allows.
 */
import { join } from 'node:path';
import { escapeControl } from '../../shared/escape-control.js';

/** Longest single name Linux file systems take (NAME_MAX, in bytes). */
export const NAME_MAX_BYTES = 255;
/** Longest symlink target Linux takes (PATH_MAX, in bytes, without the terminating NUL). */
export const SYMLINK_TARGET_MAX_BYTES = 4095;

/** How much of a refused name a notice shows. */
const SHOWN_NAME_CHARS = 100;
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
/** Read/write/execute for owner, group, other: no setuid, setgid or sticky bit from the guest, ever. */
const GUEST_PERMISSION_BITS = 0o777;

export type GuestEntryType = 'dir' | 'file' | 'symlink' | 'other';

export function guestEntryType(mode: number | undefined): GuestEntryType {
  const type = (mode ?? 0) & S_IFMT;
  return type === S_IFDIR ? 'dir' : type === S_IFREG ? 'file' : type === S_IFLNK ? 'symlink' : 'other';
}

/**
 * Why a name from a guest directory listing cannot become a host path component, or undefined if it can.
 * `/` would reach another directory, `.`/`..`/empty name the directory itself or its parent, and NUL
 * would cut the path short in the kernel.
 */
export function refuseGuestName(name: string): string | undefined {
  if (name === '') return 'an empty name';
  if (name === '.' || name === '..') return `the name "${name}"`;
  if (name.includes('/')) return 'a name containing "/"';
  if (name.includes('\0')) return 'a name containing a NUL byte';
  if (Buffer.byteLength(name) > NAME_MAX_BYTES) return `a name longer than ${NAME_MAX_BYTES} bytes`;
  return undefined;
}

/** A guest name as a notice shows it: control characters escaped, and cut short (a name can be any length). */
export function shownGuestName(name: string): string {
  const shown = escapeControl(name.length > SHOWN_NAME_CHARS ? name.slice(0, SHOWN_NAME_CHARS) : name);
  return name.length > SHOWN_NAME_CHARS ? `${shown}…` : shown;
}

/** Why a guest symlink's target text cannot be stored as a host symlink, or undefined if it can. */
export function refuseSymlinkTarget(target: string): string | undefined {
  if (target === '') return 'an empty symlink target';
  if (target.includes('\0')) return 'a symlink target containing a NUL byte';
  if (Buffer.byteLength(target) > SYMLINK_TARGET_MAX_BYTES)
    return `a symlink target longer than ${SYMLINK_TARGET_MAX_BYTES} bytes`;
  return undefined;
}

/** The host path of an accepted guest name under `dir`; throws on a name `refuseGuestName` refuses. */
export function hostChildPath(dir: string, name: string): string {
  const why = refuseGuestName(name);
  if (why !== undefined) throw new Error(`internal: ${why} reached hostChildPath`);
  return join(dir, name);
}

/** The mode a file or directory from the guest gets on the host: `mode & 0777 & ~umask`. */
export function hostModeForGuest(mode: number | undefined, umask: number): number {
  return (mode ?? 0) & GUEST_PERMISSION_BITS & ~umask;
}

/** SFTP times are uint32 seconds; a missing or nonsensical one becomes `fallback` (now) rather than NaN in utimes. */
export function guestTime(t: number | undefined, fallback: number): number {
  return typeof t === 'number' && Number.isFinite(t) && t >= 0 ? Math.floor(t) : fallback;
}
