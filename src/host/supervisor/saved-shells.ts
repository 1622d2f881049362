/**
 * The supervisor's shells saved with a suspended VM, beside its saved state in `<state>/vms/<name>/`:
 *   saved-shells.json    each tab's number, the guest's id for its shell (the agent keeps it detached:
 *                        shared/kept-shell.ts), its size, and its screen file's size and SHA-256 (0600)
 *   shell-<tab>.screen   the tab's screen as VT sequences, as an attaching client gets it (0600)
 * Read back once, on the next start, and removed. They are untrusted input like any state file: read
 * without following symlinks, size-bounded, schema-checked; a screen file that is missing, too big or not
 * the one recorded only costs that tab its old screen (the shell itself is still re-attached).
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as v from 'valibot';
import { KEPT_SHELL_ID } from '../../shared/kept-shell.js';
import { writeFileAtomic } from '../store/atomic-file.js';

export const SAVED_SHELLS_FILE = 'saved-shells.json';
const SCREEN_FILE = /^shell-\d{1,6}\.screen$/;
const screenFile = (tab: number): string => `shell-${tab}.screen`;
/** A screen of 2000 scrollback lines with colours stays well under this; a bigger one is not saved. */
export const MAX_SCREEN_BYTES = 8 << 20;
const MAX_SHELLS = 64;
/** All screens read back together: past this, the later tabs come back without theirs. */
const MAX_TOTAL_SCREEN_BYTES = 64 << 20;
const MAX_LIST_BYTES = 64 << 10;

const SavedShellsSchema = v.strictObject({
  format: v.literal(1),
  shells: v.pipe(
    v.array(
      v.strictObject({
        tab: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(999_999)),
        guestId: v.pipe(v.string(), v.regex(KEPT_SHELL_ID)),
        cols: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1000)),
        rows: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1000)),
        screen: v.nullable(
          v.strictObject({
            bytes: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(MAX_SCREEN_BYTES)),
            sha256: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)),
          }),
        ),
      }),
    ),
    v.maxLength(MAX_SHELLS),
  ),
});

export interface SavedShell {
  tab: number;
  guestId: string;
  cols: number;
  rows: number;
  /** Undefined when it was not saved or cannot be used (see `readSavedShells`'s log lines). */
  screen?: string;
}

/** Writes the shells of a VM about to be saved (any earlier ones are removed first). */
export function writeSavedShells(dir: string, shells: readonly SavedShell[], log: (line: string) => void): void {
  removeSavedShells(dir);
  const listed = shells.slice(0, MAX_SHELLS).map((sh) => {
    const bytes = sh.screen === undefined ? undefined : Buffer.from(sh.screen, 'utf8');
    if (bytes && bytes.length > MAX_SCREEN_BYTES)
      log(`tab ${sh.tab}'s screen is ${bytes.length} bytes, more than ${MAX_SCREEN_BYTES}: it is not saved`);
    const keep = bytes && bytes.length <= MAX_SCREEN_BYTES ? bytes : undefined;
    if (keep) writeFileAtomic(join(dir, screenFile(sh.tab)), keep.toString('utf8'));
    return {
      tab: sh.tab,
      guestId: sh.guestId,
      cols: sh.cols,
      rows: sh.rows,
      screen: keep ? { bytes: keep.length, sha256: sha256(keep) } : null,
    };
  });
  writeFileAtomic(join(dir, SAVED_SHELLS_FILE), `${JSON.stringify({ format: 1, shells: listed }, null, 2)}\n`);
}

/** The saved shells, each with its screen if that is intact; every file is removed (they are used once). */
export function takeSavedShells(dir: string, log: (line: string) => void): SavedShell[] {
  try {
    const list = readBounded(join(dir, SAVED_SHELLS_FILE), MAX_LIST_BYTES);
    if (list === undefined) return [];
    let json: unknown;
    try {
      json = JSON.parse(list.toString('utf8'));
    } catch {
      log(`${SAVED_SHELLS_FILE} is not JSON: the shells kept in the guest are not re-attached`);
      return [];
    }
    const parsed = v.safeParse(SavedShellsSchema, json);
    if (!parsed.success) {
      log(
        `${SAVED_SHELLS_FILE} is invalid at ${v.getDotPath(parsed.issues[0]) ?? 'the top'}: the shells kept in the guest are not re-attached`,
      );
      return [];
    }
    const seen = new Set<number>();
    let total = 0;
    return parsed.output.shells
      .filter((sh) => !seen.has(sh.tab) && seen.add(sh.tab))
      .map((sh) => {
        const { screen, ...rest } = sh;
        if (screen && total + screen.bytes > MAX_TOTAL_SCREEN_BYTES) {
          log(
            `tab ${sh.tab} is re-attached without its old screen: the saved screens are over ${MAX_TOTAL_SCREEN_BYTES} bytes`,
          );
          return rest;
        }
        const text = screen ? readScreen(dir, sh.tab, screen, log) : undefined;
        total += screen?.bytes ?? 0;
        return text === undefined ? rest : { ...rest, screen: text };
      });
  } catch (err) {
    log(`the saved shells could not be read (${(err as Error).message}): they are not re-attached`);
    return [];
  } finally {
    removeSavedShells(dir);
  }
}

export function removeSavedShells(dir: string): void {
  rmSync(join(dir, SAVED_SHELLS_FILE), { force: true });
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) if (SCREEN_FILE.test(n)) rmSync(join(dir, n), { force: true });
}

function readScreen(
  dir: string,
  tab: number,
  want: { bytes: number; sha256: string },
  log: (line: string) => void,
): string | undefined {
  const name = screenFile(tab);
  const why = (reason: string): undefined => {
    log(`tab ${tab} is re-attached without its old screen: ${name} ${reason}`);
    return undefined;
  };
  let bytes: Buffer | undefined;
  try {
    bytes = readBounded(join(dir, name), MAX_SCREEN_BYTES);
  } catch (err) {
    return why(`cannot be read (${(err as Error).message})`);
  }
  if (bytes === undefined) return why('is missing');
  if (bytes.length !== want.bytes || sha256(bytes) !== want.sha256) return why('is not the one saved (damaged)');
  return bytes.toString('utf8');
}

/**
 * A regular file of ours, at most `max` bytes, never through a symlink; undefined if it does not exist.
 * Throws (naming what is wrong) for anything else.
 */
function readBounded(file: string, max: number): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error('not a regular file');
    if (st.uid !== process.getuid?.()) throw new Error('owned by another user');
    if (st.size > max) throw new Error(`${st.size} bytes, more than ${max}`);
    const buf = Buffer.alloc(st.size);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
