/**
 * What QEMU says about itself (does it have the microvm machine; its version line), cached in the state
 * dir per binary identity (path, inode, size, mtime). Asking costs two QEMU spawns (~0.1 s, more on a
 * busy machine) on every start, a real share of a warm start; an upgraded binary has a new identity.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeFileAtomic } from '../../store/atomic-file.js';

const execFileAsync = promisify(execFile);

export interface QemuFacts {
  hasMicrovm: boolean;
  /** `QEMU emulator version 7.2.19 (...)` */
  version: string;
}

const CACHE_FILE = 'qemu-facts.json';

function identity(bin: string): string {
  const st = statSync(bin);
  return `${bin}|${st.ino}|${st.size}|${st.mtimeMs}`;
}

/** Asks QEMU (both questions at once). Throws if QEMU cannot answer. */
export async function askQemu(bin: string): Promise<QemuFacts> {
  const [machines, version] = await Promise.all([
    execFileAsync(bin, ['-M', 'help'], { timeout: 5000 }),
    execFileAsync(bin, ['--version'], { timeout: 5000 }),
  ]);
  return {
    hasMicrovm: /^microvm\b/m.test(machines.stdout),
    version: version.stdout.split('\n')[0]?.trim() || 'unknown',
  };
}

/** The facts for `bin`, from the cache in `stateDir` when the binary is unchanged (none: always ask). */
export async function qemuFacts(bin: string, stateDir: string | undefined): Promise<QemuFacts> {
  if (stateDir === undefined) return await askQemu(bin);
  const file = join(stateDir, CACHE_FILE);
  const key = identity(bin);
  try {
    const cached = JSON.parse(readFileSync(file, 'utf8')) as { key: string; facts: QemuFacts };
    if (cached.key === key && typeof cached.facts.version === 'string') return cached.facts;
  } catch {
    /* no or unreadable cache: ask */
  }
  const facts = await askQemu(bin);
  try {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    writeFileAtomic(file, JSON.stringify({ key, facts }));
  } catch {
    /* a cache we cannot write only costs time */
  }
  return facts;
}
