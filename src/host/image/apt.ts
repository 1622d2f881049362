/** Debian packages for the image, fetched with apt (never installed on the host). */
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { writeFileAtomic } from '../store/atomic-file.js';
import { join } from 'node:path';
import { ImageAptError, ImagePackageUnknownError } from './errors.js';
import { closePackageNames } from './package-names.js';
import { DEBIAN_SUITE, KERNEL_METAPACKAGE, type KernelPackage } from './recipe.js';
import { runTool } from './run-tool.js';

const NO_LISTS =
  'apt knows no such package: its package lists are probably empty. Run `apt-get update` (as root) and try again';

/** The concrete kernel package the metapackage points at now, and its version. */
export async function resolveKernelPackage(): Promise<KernelPackage> {
  const deps = await runTool('apt-cache', ['depends', '--important', KERNEL_METAPACKAGE], { pkg: 'apt' }).catch(
    (err: unknown) => {
      throw new ImageAptError(`cannot resolve ${KERNEL_METAPACKAGE}: ${NO_LISTS}`, { cause: err });
    },
  );
  const name = /Depends:\s*(linux-image-[0-9][^\s]*)/.exec(deps)?.[1];
  if (name === undefined)
    throw new ImageAptError(`cannot resolve ${KERNEL_METAPACKAGE} to a kernel package: ${NO_LISTS}`);
  const show = await runTool('apt-cache', ['show', '--no-all-versions', name]);
  const version = /^Version:\s*(\S+)/m.exec(show)?.[1];
  if (version === undefined) throw new ImageAptError(`apt-cache show ${name} printed no Version: ${NO_LISTS}`);
  return { name, version };
}

/**
 * apt-cache takes ~3 s here, too slow for every `run`. Its answer changes only when the package lists
 * do (apt-get update), so it is cached under the lists' identity.
 */
export async function resolveKernelPackageCached(cacheDir: string): Promise<KernelPackage> {
  let listsKey = '';
  try {
    const st = statSync('/var/lib/apt/lists');
    listsKey = `${st.mtimeMs}:${readdirSync('/var/lib/apt/lists').length}`;
  } catch {
    return await resolveKernelPackage();
  }
  const file = join(cacheDir, 'kernel-package.json');
  try {
    const cached = JSON.parse(readFileSync(file, 'utf8')) as { listsKey: string; kernel: KernelPackage };
    if (cached.listsKey === listsKey) return cached.kernel;
  } catch {
    /* no cache yet */
  }
  const kernel = await resolveKernelPackage();
  mkdirSync(cacheDir, { recursive: true });
  writeFileAtomic(file, JSON.stringify({ listsKey, kernel }), 0o644);
  return kernel;
}

/** Downloads `pkg` (=version) into dir; returns the .deb path. */
export async function downloadPackage(pkg: string, dir: string, signal?: AbortSignal): Promise<string> {
  await runTool('apt-get', ['download', '-q', pkg], { cwd: dir, pkg: 'apt', ...(signal ? { signal } : {}) }).catch(
    (err: unknown) => {
      throw new ImageAptError(
        `apt-get download ${pkg} failed; check that Debian's mirror is reachable and run \`apt-get update\``,
        { cause: err },
      );
    },
  );
  const base = pkg.split('=')[0] ?? pkg;
  const deb = readdirSync(dir).find((f) => f.startsWith(`${base}_`) && f.endsWith('.deb'));
  if (deb === undefined) throw new ImageAptError(`apt-get download ${pkg} produced no .deb in ${dir}`);
  return join(dir, deb);
}

/**
 * Refuses names that apt's lists (the same ones the build downloads from) do not have, each named with
 * its close matches. `from` says where the names were given, e.g. "--package". Virtual packages are not
 * counted: mmdebstrap cannot install one that several packages provide without being told which.
 */
export async function checkPackagesKnown(names: readonly string[], from: string): Promise<void> {
  if (names.length === 0) return;
  const out = await runTool('apt-cache', ['pkgnames'], { pkg: 'apt' }).catch((err: unknown) => {
    throw new ImageAptError(`cannot list Debian's packages to check ${from}: ${NO_LISTS}`, { cause: err });
  });
  const known = new Set(out.split('\n').filter(Boolean));
  if (known.size === 0) throw new ImageAptError(`cannot check ${from}: ${NO_LISTS}`);
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length === 0) return;
  const lines = unknown.map((n) => {
    const near = closePackageNames(n, known);
    return `"${n}"${near.length ? ` (did you mean ${near.join(', ')}?)` : ''}`;
  });
  throw new ImagePackageUnknownError(
    `${from}: no Debian package ${lines.join(', ')} in apt's lists for ${DEBIAN_SUITE}; \`apt-cache search WORD\` finds package names (if the package is new, \`apt-get update\` as root refreshes the lists)`,
  );
}
