/**
 * Names for work-in-progress dirs in the shared cache (image builds, warm-snapshot templates, damaged
 * images being deleted): `<prefix><key>-<pid>-<start>-<rand>`. The name carries its creator's identity
 * (pid and start time, process-identity.ts), so `clean` and the sweeps can tell a leftover of a killed
 * process from the work of a live one, even once the pid has been reused. Older versions wrote
 * `<prefix><key>-<pid>` (image builds) and `<prefix><key>-<pid>-<rand>` (snapshots): those are judged by
 * the pid alone.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive, startTimeOf } from './process-identity.js';

/** Image ids and snapshot keys: 16 hex digits, Firecracker's with `fc-` in front. */
const KEY = /^(?:fc-)?[0-9a-f]{16}-/;

export function tempDirName(prefix: string, key: string): string {
  const start = startTimeOf(process.pid);
  return `${prefix}${key}-${process.pid}${start === undefined ? '' : `-${start}`}-${randomBytes(3).toString('hex')}`;
}

/** Who made the dir `name` (undefined: not a name tempDirName, or an older version, makes with `prefix`). */
export function tempDirCreator(name: string, prefix: string): { pid: number; start?: number } | undefined {
  if (!name.startsWith(prefix)) return undefined;
  const rest = name.slice(prefix.length);
  const key = KEY.exec(rest);
  if (!key) return undefined;
  const parts = rest.slice(key[0].length).split('-');
  const pid = Number(parts[0]);
  if (!/^\d+$/.test(parts[0] ?? '') || pid <= 0) return undefined;
  if (parts.length === 3 && /^\d+$/.test(parts[1] ?? '')) return { pid, start: Number(parts[1]) };
  if (parts.length <= 2) return { pid };
  return undefined;
}

/** Whether the process that made `name` is gone (or its pid now belongs to another process). */
export function isAbandoned(name: string, prefix: string): boolean {
  const creator = tempDirCreator(name, prefix);
  if (!creator) return false;
  if (creator.start === undefined) return startTimeOf(creator.pid) === undefined;
  return !isAlive({ pid: creator.pid, start: creator.start });
}

export interface RemoveAbandonedOptions {
  /** Which names to judge (default: every `prefix` name). */
  which?: (name: string) => boolean;
  /** A dir that could not be removed (e.g. EBUSY: a mount left inside it) stays; this hears why. */
  onError?: (path: string, err: unknown) => void;
}

/** Removes the abandoned `prefix` dirs in `parent`; returns their names. */
export function removeAbandoned(parent: string, prefix: string, opts: RemoveAbandonedOptions = {}): string[] {
  if (!existsSync(parent)) return [];
  const removed: string[] = [];
  for (const name of readdirSync(parent)) {
    if ((opts.which && !opts.which(name)) || !isAbandoned(name, prefix)) continue;
    try {
      rmSync(join(parent, name), { recursive: true, force: true });
      removed.push(name);
    } catch (err) {
      opts.onError?.(join(parent, name), err);
    }
  }
  return removed;
}
