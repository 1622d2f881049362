/**
 * Per-VM directories: <runtime>/vms/<name>/, mode 0700, holding sockets (0600), keys, the writable layer,
 * console and VMM logs. Created exclusively (a second VM of the same name fails fast) and removed on
 * every normal exit path.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { InstanceDir } from '../vm/driver.js';
import { StoreNameTakenError, StoreUnsafeDirError } from './errors.js';
import { ensurePrivateDir } from './private-dir.js';

export interface OwnedInstanceDir extends InstanceDir {
  readonly name: string;
  remove(): void;
}

const NAME_RE = /^[a-z0-9][a-z0-9_.-]{0,39}$/i;

export function validateVmName(name: string): string {
  if (!NAME_RE.test(name)) {
    throw new StoreUnsafeDirError(`invalid VM name ${JSON.stringify(name)}: use 1–40 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  }
  return name;
}

export function createInstanceDir(vmsDir: string, name: string): OwnedInstanceDir {
  validateVmName(name);
  ensurePrivateDir(vmsDir);
  const path = join(vmsDir, name);
  try {
    mkdirSync(path, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new StoreNameTakenError(`a VM named ${name} already exists (${path}); pick another name, or run \`virtualghost clean\` if it is a leftover`, { cause: err });
    }
    throw err;
  }
  return {
    name,
    path,
    file: (f: string) => join(path, f),
    remove: () => rmSync(path, { recursive: true, force: true }),
  };
}

export function openInstanceDir(vmsDir: string, name: string): OwnedInstanceDir {
  const path = join(vmsDir, validateVmName(name));
  return { name, path, file: (f: string) => join(path, f), remove: () => rmSync(path, { recursive: true, force: true }) };
}
