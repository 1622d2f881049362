/**
 * Mounts (`-v HOST_DIR:GUEST_DIR[:ro]`, config `[[mounts]]` with `host`, `guest`, `readonly`): their
 * syntax and the rules a guest path must follow, in one place. Pure (no file system): the config schema
 * checks a value with it when the value is read; mount-check.ts then checks the host dirs themselves
 * before a VM boots.
 */
import { homedir } from 'node:os';
import { isAbsolute, posix, resolve } from 'node:path';

export interface MountSpec {
  /** Absolute host path (not yet checked to exist: mount-check.ts). */
  readonly host: string;
  /** Absolute, normalized guest path. */
  readonly guest: string;
  readonly readonly: boolean;
}

/** A `[[mounts]]` table as written in the config file. */
export interface MountTable {
  host: string;
  guest: string;
  readonly?: boolean;
}

/** A mounts value as stored: `-v`/env/`config set` strings, or config-file tables. */
export type MountEntry = string | MountTable;

export const MOUNT_SYNTAX = 'HOST_DIR:GUEST_DIR[:ro], e.g. ./src:/work or ~/data:/data:ro';

/** Guest trees the kernel and the agent need: a mount over them would break the VM, not share a dir. */
const FORBIDDEN_GUEST_ROOTS = ['/proc', '/sys', '/dev'];

export class MountSpecProblem extends Error {}

/** `~` and `~/x` are the home dir; relative host paths are resolved against `cwd` (when given: `-v`). */
function hostPath(text: string, cwd: string | undefined, shown: string): string {
  if (text === '') throw new MountSpecProblem(`${shown}: the host dir is empty; expected ${MOUNT_SYNTAX}`);
  if (text.includes('\0')) throw new MountSpecProblem(`${shown}: the host dir contains a NUL byte`);
  const home = text === '~' || text.startsWith('~/') ? homedir() + text.slice(1) : text;
  if (isAbsolute(home)) return resolve(home);
  if (cwd === undefined)
    throw new MountSpecProblem(
      `${shown}: host dir ${JSON.stringify(text)} is relative; in the config file write an absolute path (or ~/…)`,
    );
  return resolve(cwd, home);
}

/** The one rule for guest paths: absolute, no `..`, not `/` itself, not under /proc, /sys or /dev. */
export function guestPath(text: string, shown: string): string {
  if (!text.startsWith('/'))
    throw new MountSpecProblem(`${shown}: guest dir ${JSON.stringify(text)} is not an absolute path (start it with /)`);
  if (text.includes('\0')) throw new MountSpecProblem(`${shown}: the guest dir contains a NUL byte`);
  if (text.split('/').includes('..'))
    throw new MountSpecProblem(`${shown}: guest dir ${JSON.stringify(text)} contains \`..\`; name the dir itself`);
  const path = posix.normalize(text).replace(/(.)\/+$/, '$1');
  if (path === '/') throw new MountSpecProblem(`${shown}: a mount cannot replace the guest's root dir /`);
  const root = FORBIDDEN_GUEST_ROOTS.find((r) => path === r || path.startsWith(`${r}/`));
  if (root)
    throw new MountSpecProblem(
      `${shown}: guest dir ${path} is under ${root}, which the guest kernel owns; pick another dir such as /work`,
    );
  return path;
}

/** One `-v` value. A host path with `:` in it can only be given as a `[[mounts]]` table. */
export function parseMountText(text: string, cwd?: string): MountSpec {
  const shown = `-v ${JSON.stringify(text)}`;
  const parts = text.split(':');
  const mode = parts.length === 3 ? parts[2] : undefined;
  if ((parts.length !== 2 && parts.length !== 3) || (mode !== undefined && mode !== 'ro' && mode !== 'rw'))
    throw new MountSpecProblem(`${shown}: expected ${MOUNT_SYNTAX}`);
  return {
    host: hostPath(parts[0] ?? '', cwd, shown),
    guest: guestPath(parts[1] ?? '', shown),
    readonly: mode === 'ro',
  };
}

/**
 * `-v ./src:/work` → `-v /abs/src:/work`, resolved in the command that was given it (a supervisor runs
 * elsewhere). A value it cannot parse stays as it is, for the config check to name.
 */
export function absoluteMountText(text: string, cwd = process.cwd()): string {
  const [host, ...rest] = text.split(':');
  if (!host || rest.length === 0 || isAbsolute(host) || host === '~' || host.startsWith('~/')) return text;
  return [resolve(cwd, host), ...rest].join(':');
}

function parseTable(table: MountTable): MountSpec {
  const shown = `[[mounts]] ${JSON.stringify(table)}`;
  if (typeof table.host !== 'string' || typeof table.guest !== 'string')
    throw new MountSpecProblem(`${shown}: needs host = "DIR" and guest = "/DIR" (and readonly = true, if wanted)`);
  if (table.readonly !== undefined && typeof table.readonly !== 'boolean')
    throw new MountSpecProblem(`${shown}: readonly must be true or false`);
  const extra = Object.keys(table).filter((k) => !['host', 'guest', 'readonly'].includes(k));
  if (extra.length)
    throw new MountSpecProblem(`${shown}: unknown key ${extra.join(', ')} (keys: host, guest, readonly)`);
  return {
    host: hostPath(table.host, undefined, shown),
    guest: guestPath(table.guest, shown),
    readonly: table.readonly ?? false,
  };
}

/** Every entry parsed; the same guest dir twice is refused (the second would hide the first). */
export function parseMounts(entries: readonly unknown[], cwd?: string): MountSpec[] {
  const specs = entries.map((e) => {
    if (typeof e === 'string') return parseMountText(e, cwd);
    if (e !== null && typeof e === 'object' && !Array.isArray(e)) return parseTable(e as MountTable);
    throw new MountSpecProblem(`${JSON.stringify(e)} is not a mount: expected ${MOUNT_SYNTAX} or a [[mounts]] table`);
  });
  const seen = new Set<string>();
  for (const s of specs) {
    if (seen.has(s.guest))
      throw new MountSpecProblem(`guest dir ${s.guest} is mounted twice; give each mount its own guest dir`);
    seen.add(s.guest);
  }
  return specs;
}

/** Why `entries` is not a valid mounts value, or undefined (the config schema's check). */
export function mountsProblem(entries: readonly unknown[]): string | undefined {
  try {
    parseMounts(entries, process.cwd());
    return undefined;
  } catch (err) {
    if (err instanceof MountSpecProblem) return err.message;
    throw err;
  }
}
