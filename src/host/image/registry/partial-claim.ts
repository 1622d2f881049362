/**
 * Who may write a blob's partial download. `partial/<alg>-<hex>` is the resumable state; a pull claims
 * it by renaming it to `<alg>-<hex>.<pid>-<start>-<random>` (rename is atomic: of two pulls of the same blob only
 * one gets it, the other starts a file of its own), and gives it back by renaming it again when it stops
 * early. A claim whose process is gone (killed with SIGKILL) is taken over the same way.
 */
import { randomBytes } from 'node:crypto';
import { lstatSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { identify, isAlive } from '../../store/process-identity.js';

export interface PartialClaim {
  /** The file this pull writes to. */
  path: string;
  /** Hands what was downloaded back for the next pull to resume (a dropped connection, Ctrl-C). */
  release(): void;
  /** The download failed verification: nothing of it is kept. */
  discard(): void;
}

const CLAIM = /^(.+)\.(\d+)-(\d+)-[0-9a-f]+$/;

function tryRename(from: string, to: string): boolean {
  try {
    renameSync(from, to);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

export function claimPartial(dir: string, name: string): PartialClaim {
  const me = identify(process.pid);
  const shared = join(dir, name);
  const path = join(dir, `${name}.${process.pid}-${me?.start ?? 0}-${randomBytes(3).toString('hex')}`);
  let claimed = tryRename(shared, path);
  if (!claimed) {
    for (const other of readdirSync(dir)) {
      const m = CLAIM.exec(other);
      if (!m || m[1] !== name) continue;
      if (isAlive({ pid: Number(m[2]), start: Number(m[3]) })) continue;
      if ((claimed = tryRename(join(dir, other), path))) break;
    }
  }
  if (!claimed) writeFileSync(path, '', { mode: 0o600 });
  return {
    path,
    release: () => {
      if ((lstatSync(path, { throwIfNoEntry: false })?.size ?? 0) > 0) tryRename(path, shared);
      else rmSync(path, { force: true });
    },
    discard: () => rmSync(path, { force: true }),
  };
}
