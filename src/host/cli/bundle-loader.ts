/**
 * How bin/virtualghost.js starts the CLI fast: the whole host CLI as one esbuild bundle (scripts/bundle-cli.mjs)
 * run through a V8 code cache kept in the user's cache dir, instead of some 300 ES modules each resolved,
 * read and compiled on every start. Measured here: process start → a session's first step 0.33 s with the
 * modules, 0.17 s with the bundle and its cache (`npm run bench -- --only cli`).
 *
 * The bundle is used only when it is at least as new as every tsc build of the code in it (a developer who
 * ran `tsc -b` after `npm run build` gets the modules they just built), and never with
 * VIRTUALGHOST_CLI_BUNDLE=0. A code cache is executable state: it lives under a private (0700, ours, not a
 * link) dir, is opened without following links, must be ours and 0600, and is named by a hash of the bundle,
 * Node's version and the architecture, because V8 checks only the source's length before it trusts one.
 * Anything wrong with the cache means running without one, never a failed command.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import Module from 'node:module';
import { basename, dirname, join } from 'node:path';
import { Script } from 'node:vm';
import { CLI_BUNDLE_ENV } from '../config/other-env.js';
import { runCommonJs } from '../../shared-node/commonjs-script.js';
import { ghostPaths } from '../store/paths.js';
import { writeFileAtomic } from '../store/atomic-file.js';
import { ensurePrivateDir } from '../store/private-dir.js';

export type CodeCacheState = 'accepted' | 'rejected' | 'absent' | 'off';

/** What `version --json` reports as `cli`: how this process's CLI was loaded. */
export interface CliLoadReport {
  form: 'bundle' | 'modules';
  codeCache: CodeCacheState;
  /** Why the modules or no cache, when that is not the plain default. */
  reason?: string;
}

const REPORT_KEY = Symbol.for('virtualghost.cliLoad');
type WithReport = typeof globalThis & { [REPORT_KEY]?: CliLoadReport };

export function cliLoadReport(): CliLoadReport {
  return (
    (globalThis as WithReport)[REPORT_KEY] ?? {
      form: 'modules',
      codeCache: 'off',
      reason: 'not started by bin/virtualghost.js (the single executable runs its own bundle)',
    }
  );
}

const mtimeMs = (path: string): number | undefined => {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
};

/**
 * The bundle to run, or why not. `distDir` is the package's dist/; its *.tsbuildinfo files are touched by
 * every tsc build that emitted anything for that project.
 */
export function chooseBundle(
  distDir: string,
  env: NodeJS.ProcessEnv = process.env,
): { bundle: string } | { reason: string } {
  if (env[CLI_BUNDLE_ENV] === '0') return { reason: `${CLI_BUNDLE_ENV}=0` };
  const bundle = join(distDir, 'host', 'cli', 'main.bundle.cjs');
  const built = mtimeMs(bundle);
  if (built === undefined) return { reason: `no ${bundle} (npm run build makes it)` };
  const newest = Math.max(
    ...['shared', 'shared-node', 'host'].map((p) => mtimeMs(join(distDir, `${p}.tsbuildinfo`)) ?? 0),
  );
  if (newest > built) return { reason: `${bundle} is older than the last tsc build (npm run build refreshes it)` };
  return { bundle };
}

/**
 * The verb a cache is kept for: each holds what its first run compiled (V8 adds the functions that ran), so
 * `exec` does not start from the cache a `version` made.
 */
function verbOf(argv: readonly string[]): string {
  const verb = argv.slice(2).find((a) => !a.startsWith('-'));
  return verb !== undefined && /^[a-z_][a-z0-9_-]{0,31}$/.test(verb) ? verb : 'other';
}

/** Where this bundle's code cache lives, under a checked private dir; undefined (with why) when it cannot. */
function cachePath(
  source: string,
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): { path: string } | { reason: string } {
  try {
    const dir = join(ghostPaths(env).cacheDir, 'code-cache');
    ensurePrivateDir(dirname(dir));
    ensurePrivateDir(dir);
    const id = createHash('sha256').update(source).update(`\0${process.version}\0${process.arch}`).digest('hex');
    return { path: join(dir, `cli-${id.slice(0, 24)}-${verbOf(argv)}.v8`) };
  } catch (err) {
    return { reason: `code cache off: ${(err as Error).message}` };
  }
}

/** The cache's bytes if it is a plain file of ours that only we can read and write; otherwise undefined. */
function readOwnCache(path: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.uid !== process.getuid?.() || (st.mode & 0o077) !== 0) return undefined;
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Atomically (store/atomic-file.ts, 0600), so a reader sees the old cache, the new one, or none. The caches
 * of other bundles (an earlier build) go at the same time: nothing would ever read them again. A failure
 * (a full disk) only means no cache this time.
 */
function writeCache(path: string, data: Buffer): void {
  const ours = basename(path).split('-').slice(0, 2).join('-'); // cli-<bundle id>
  try {
    for (const f of readdirSync(dirname(path)))
      if (f.startsWith('cli-') && !f.startsWith(`${ours}-`)) rmSync(join(dirname(path), f), { force: true });
    writeFileAtomic(path, data);
  } catch {
    // no cache this time
  }
}

/**
 * Runs the bundle as a CommonJS module and returns its exports (it exports `main`). The cache is written
 * once the process exits, after the command ran, so it holds the functions this command compiled too.
 */
export function loadBundle(
  bundle: string,
  argv: readonly string[] = process.argv,
  env: NodeJS.ProcessEnv = process.env,
): { main: (argv: string[]) => Promise<number> } {
  const source = readFileSync(bundle, 'utf8');
  const where = cachePath(source, argv, env);
  const cachedData = 'path' in where ? readOwnCache(where.path) : undefined;
  const script = new Script(Module.wrap(source), { filename: bundle, ...(cachedData ? { cachedData } : {}) });
  const codeCache: CodeCacheState = !('path' in where)
    ? 'off'
    : cachedData === undefined
      ? 'absent'
      : script.cachedDataRejected
        ? 'rejected'
        : 'accepted';
  (globalThis as WithReport)[REPORT_KEY] = {
    form: 'bundle',
    codeCache,
    ...('reason' in where ? { reason: where.reason } : {}),
  };
  if ('path' in where && codeCache !== 'accepted') {
    const path = where.path;
    process.once('exit', () => writeCache(path, script.createCachedData()));
  }
  return runCommonJs<{ main: (argv: string[]) => Promise<number> }>(script, bundle);
}

/** For bin/virtualghost.js when it runs the modules: records why, for `version --json`. */
export function noteModules(reason: string): void {
  (globalThis as WithReport)[REPORT_KEY] = { form: 'modules', codeCache: 'off', reason };
}
