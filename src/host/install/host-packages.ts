/**
 * The Debian packages the host needs (host-packages.json, shared with scripts/setup.mjs), which of
 * them are missing here, and the one command that installs them.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as v from 'valibot';
import { packageRoot } from '../image/project-files.js';
import { findExecutable } from '../vm/which.js';
import type { InstallForm } from './form.js';
import { seaManifest } from '../sea/embedded.js';

const Need = v.picklist(['run', 'image', 'net', 'test']);
const HostPackage = v.object({
  command: v.optional(v.string()),
  path: v.optional(v.string()),
  package: v.string(),
  need: Need,
  why: v.string(),
});
const HostPackages = v.object({ packages: v.array(HostPackage) });
export type HostPackage = v.InferOutput<typeof HostPackage>;

export function hostPackages(root = packageRoot()): HostPackage[] {
  const file = join(root, 'host-packages.json');
  const parsed = v.safeParse(HostPackages, JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success)
    throw new Error(`${file} is malformed (${parsed.issues[0]?.message ?? 'bad shape'}): reinstall virtualghost`);
  return parsed.output.packages;
}

// mkfs.ext4 and modprobe live in sbin, which a user's PATH often lacks; the builder finds them there.
const SEARCH_PATH = `${process.env.PATH ?? ''}:/usr/sbin:/sbin`;

function present(p: HostPackage): boolean {
  if (p.path !== undefined) return existsSync(p.path);
  return p.command !== undefined && findExecutable(p.command, SEARCH_PATH) !== undefined;
}

/**
 * Whether this install form builds the guest image on this host: the single executable with an
 * embedded image only unpacks it (no mmdebstrap, compiler or apt lists), unless it was packed without.
 */
function buildsImage(form: InstallForm): boolean {
  return form !== 'single-executable' || !seaManifest()?.image;
}

/** What this install form needs: the test tools only matter where `npm test` can run. */
export function missingHostPackages(form: InstallForm, all = hostPackages()): HostPackage[] {
  return all.filter(
    (p) => (p.need !== 'test' || form === 'checkout') && (p.need !== 'image' || buildsImage(form)) && !present(p),
  );
}

function aptListsEmpty(dir = '/var/lib/apt/lists'): boolean {
  try {
    return !readdirSync(dir).some((f) => f.includes('Packages'));
  } catch {
    return true;
  }
}

export interface InstallAdvice {
  missing: HostPackage[];
  /** apt has no package lists: the guest kernel and packages are resolved from them. */
  aptListsEmpty: boolean;
  /** The exact command to run, or null when nothing is missing. */
  command: string | null;
}

export function installAdvice(form: InstallForm, isRoot = process.getuid?.() === 0): InstallAdvice {
  const missing = missingHostPackages(form);
  const noLists = buildsImage(form) && aptListsEmpty();
  const pkgs = [...new Set(missing.map((p) => p.package))];
  const steps = [
    noLists || pkgs.length > 0 ? 'apt-get update' : '',
    pkgs.length > 0 ? `apt-get install -y --no-install-recommends ${pkgs.join(' ')}` : '',
  ].filter(Boolean);
  const joined = steps.join(' && ');
  const command = steps.length === 0 ? null : isRoot ? joined : `sudo sh -c '${joined}'`;
  return { missing, aptListsEmpty: noLists, command };
}
