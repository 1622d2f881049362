/**
 * Per-VM directories: <runtime>/vms/<name>/, mode 0700, holding sockets (0600), keys, the writable layer,
 * console and VMM logs. The directory is also the VM's lock: it appears atomically, already holding the
 * owner record (a private temp dir renamed into place: rename onto an existing directory fails), so a second
 * VM of the same name fails fast and nobody ever sees a directory without an owner. A leftover whose owner
 * and VMM are verifiably dead is taken over — renamed aside first, so two racing claimants cannot both
 * "remove the stale one" and then delete each other's fresh directory.
 */
import { existsSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { InstanceDir } from '../vm/driver.js';
import { StoreInvalidNameError, StoreNameTakenError } from './errors.js';
import { assertPrivateDir, assertPrivateVmsDir, ensurePrivateDir } from './private-dir.js';
import { OWNER_FILE, identify, isAlive, readOwner, writeOwner, type OwnerRecord } from './process-identity.js';

export interface OwnedInstanceDir extends InstanceDir {
  readonly name: string;
  remove(): void;
  /** Deletes everything inside but the named files (a failed warm restore before the cold boot). */
  empty(keep: readonly string[]): void;
}

const NAME_RE = /^[a-z0-9][a-z0-9_.-]{0,39}$/i;

export function isVmName(name: string): boolean {
  return NAME_RE.test(name);
}

export function validateVmName(name: string): string {
  if (!isVmName(name)) {
    throw new StoreInvalidNameError(
      `invalid VM name ${JSON.stringify(name)}: use 1–40 letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
  }
  return name;
}

function handle(vmsDir: string, name: string): OwnedInstanceDir {
  const path = join(vmsDir, name);
  return {
    name,
    path,
    file: (f: string) => join(path, f),
    remove: () => rmSync(path, { recursive: true, force: true }),
    empty: (keep) => {
      for (const f of readdirSync(path)) if (!keep.includes(f)) rmSync(join(path, f), { recursive: true, force: true });
    },
  };
}

/** Whether the per-VM dir's owner process (the CLI or the supervisor holding the VM) is still running. */
export function ownerAlive(dir: string): boolean {
  return isAlive(readOwner(join(dir, OWNER_FILE))?.host);
}

export function createInstanceDir(vmsDir: string, name: string): OwnedInstanceDir {
  validateVmName(name);
  // Checked before creating too: mkdir -p into another user's base (or through its symlink) would leave
  // our vms/ in their dir, or fail with a bare EACCES; checked after, in case the base appeared meanwhile.
  assertPrivateVmsDir(vmsDir);
  ensurePrivateDir(vmsDir);
  assertPrivateVmsDir(vmsDir);
  const owner: OwnerRecord = {
    host: identify(process.pid) ?? { pid: process.pid, start: 0 },
    backend: 'pending',
    createdAt: new Date().toISOString(),
  };
  const dir = handle(vmsDir, name);
  for (let attempt = 0; attempt < 3; attempt++) {
    const tmp = mkdtempSync(join(vmsDir, `.claim-${name}-`));
    writeOwner(join(tmp, OWNER_FILE), owner);
    try {
      renameSync(tmp, dir.path);
      return dir;
    } catch (err) {
      rmSync(tmp, { recursive: true, force: true });
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
    }
    const current = readOwner(dir.file(OWNER_FILE));
    if (current && (isAlive(current.host) || isAlive(current.vmm))) {
      throw new StoreNameTakenError(
        `a VM named ${name} already exists (owned by pid ${current.host.pid}); pick another name, or see \`virtualghost ps\``,
      );
    }
    setAside(vmsDir, name);
  }
  throw new StoreNameTakenError(`could not claim the VM name ${name}: another command keeps claiming it; try again`);
}

/** Moves a dead VM's directory out of the way atomically (only one racing claimant wins) and deletes it. */
function setAside(vmsDir: string, name: string): void {
  const aside = join(vmsDir, `.stale-${name}-${process.pid}-${Date.now()}`);
  try {
    renameSync(join(vmsDir, name), aside);
  } catch {
    return; // someone else moved it first; the next claim attempt decides again
  }
  const owner = readOwner(join(aside, OWNER_FILE));
  if (owner && (isAlive(owner.host) || isAlive(owner.vmm))) {
    // It was replaced by a live VM between our check and the rename: put it back untouched.
    if (!existsSync(join(vmsDir, name))) renameSync(aside, join(vmsDir, name));
    return;
  }
  rmSync(aside, { recursive: true, force: true });
}

export function openInstanceDir(vmsDir: string, name: string): OwnedInstanceDir {
  validateVmName(name);
  assertPrivateVmsDir(vmsDir);
  assertPrivateDir(join(vmsDir, name));
  return handle(vmsDir, name);
}
