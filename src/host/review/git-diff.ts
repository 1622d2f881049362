/**
 * Diffs of the staged change set (staging.ts) by `git diff --no-index` of its `a/` and `b/` trees: the
 * git-style patch of `--on-exit patch:FILE` (modes, symlinks, binaries as GIT binary patch, renames) and
 * the text the review screen shows. The user's git configuration is kept out (no external diff, no
 * textconv, no pager), since the trees hold guest-chosen names and content.
 */
import { spawnSync } from 'node:child_process';
import { lstatSync } from 'node:fs';
import { ReviewFailedError } from './errors.js';
import type { Staging } from './staging.js';

const GIT_ENV = {
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_PAGER: 'cat',
  LC_ALL: 'C',
};

function git(staging: Staging, args: readonly string[]): Buffer {
  const r = spawnSync(
    'git',
    [
      '-c',
      'core.quotePath=true',
      'diff',
      '--no-index',
      '--no-prefix',
      '--no-ext-diff',
      '--no-textconv',
      '--no-color',
      ...args,
    ],
    { cwd: staging.dir, env: { ...process.env, ...GIT_ENV }, maxBuffer: 1 << 30 },
  );
  if (r.error)
    throw new ReviewFailedError(
      `cannot run git for the diff (${(r.error as NodeJS.ErrnoException).code ?? r.error.message}); install git (apt install git)`,
    );
  // 1: the trees differ, as they do whenever there is anything to show.
  if (r.status !== 0 && r.status !== 1)
    throw new ReviewFailedError(`git diff failed: ${r.stderr.toString().trim().slice(0, 500)}`);
  return r.stdout;
}

/** The whole change set as a patch `git apply` takes (paths relative to DIR). */
export function gitPatch(staging: Staging): Buffer {
  const patch = git(staging, ['--binary', '--full-index', '-M', 'a', 'b']).toString('latin1');
  // --no-index names a rename's paths with the tree dirs in front; `git apply` strips one component less
  // there than on the `diff --git` line, so they go. (No content or base85 line can begin "rename ".)
  return Buffer.from(patch.replace(/^(rename (?:from|to) "?)[ab]\//gm, '$1'), 'latin1');
}

/** One entry's diff as text (binaries as git's one-line "Binary files … differ"). */
export function gitEntryDiff(staging: Staging, oldPath: string | undefined, newPath: string | undefined): string {
  const a = oldPath !== undefined && exists(staging.side('a', oldPath)) ? `a/${oldPath}` : '/dev/null';
  const b = newPath !== undefined && exists(staging.side('b', newPath)) ? `b/${newPath}` : '/dev/null';
  if (a === '/dev/null' && b === '/dev/null') return '';
  return git(staging, ['--', a, b]).toString('utf8');
}

/** Without following a link: a staged symlink whose target does not exist is still there. */
function exists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}
