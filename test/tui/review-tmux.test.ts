/**
 * `run --review DIR` as a person uses it (issue #15 §2): tmux is the terminal, the TUI's shell makes
 * changes in /work and exits, and the review screen that follows is driven with send-keys: the summary,
 * the coloured diff (view), then "choose per file" taking one change and leaving the other. One VM.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { tmuxPane } from '../helpers/tmux-pane.js';

const root = join(import.meta.dirname, '..', '..');
const socket = `vg-review-tmux-${process.pid}`;
const S = 'rv';
const pane = tmuxPane(socket, S);
const { tmux, waitFor, type } = pane;
const base = mkdtempSync(join(tmpdir(), 'vg-review-tmux-'));

afterAll(() => {
  try {
    tmux('kill-server');
  } catch {
    /* already gone */
  }
  rmSync(base, { recursive: true, force: true });
});

it('the shell exits, the change set is shown with its diff, and only the change chosen lands in DIR', async () => {
  const dir = join(base, 'dir');
  mkdirSync(dir);
  writeFileSync(join(dir, 'notes.txt'), 'alpha\nbeta\n');
  writeFileSync(join(dir, 'keep.txt'), 'kept\n');
  const env = ['XDG_RUNTIME_DIR', 'XDG_CONFIG_HOME', 'XDG_STATE_HOME', 'XDG_CACHE_HOME', 'HOME', 'PATH']
    .filter((k) => process.env[k])
    .map((k) => `${k}=${process.env[k]}`);
  const cmd = `cd ${root} && env ${env.join(' ')} TERM=tmux-256color VIRTUALGHOST_ACCEL=tcg PAGER=cat node bin/virtualghost.js run --review ${dir}; echo "RUN-EXIT=$?"; sleep 600`;
  tmux('new-session', '-d', '-s', S, '-x', '200', '-y', '50', cmd);
  await waitFor((s) => s.includes('root@ghost'), 'the guest prompt', 120_000);
  type(
    "clear; cd /work && printf 'gamma\\n' >> notes.txt && rm keep.txt && printf 'x\\033]0;pwned\\007y\\n' > added.txt && ls",
  );
  await waitFor((s) => s.includes('added.txt') && s.includes('notes.txt'), 'the changes in /work');
  type('exit 7');

  const summary = await waitFor((s) => s.includes('[a]pply all, [c]hoose per file'), 'the review question', 60_000);
  expect(summary).toContain(`the VM changed ${dir}: 1 added, 1 modified, 1 deleted, 0 renamed, 0 mode changed`);
  expect(summary).toMatch(/A added\.txt/);
  expect(summary).toMatch(/D keep\.txt/);
  expect(summary).toMatch(/M notes\.txt/);

  type('v');
  const diff = await waitFor((s) => s.includes('+gamma'), 'the diff', 20_000);
  expect(diff).toContain('-kept');
  // The guest's escape sequence is shown, not obeyed.
  expect(diff).toContain('+x\\x1b]0;pwned\\x07y');
  const colours = tmux('capture-pane', '-p', '-e', '-t', S);
  expect(colours).toContain('\x1b[32m+gamma');
  expect(colours).toContain('\x1b[31m-kept');

  type('c');
  await waitFor((s) => s.includes('Apply A added.txt? [y]es'), 'the first per-file question');
  type('n');
  await waitFor((s) => s.includes('Apply D keep.txt? [y]es'), 'the second per-file question');
  type('n');
  await waitFor((s) => s.includes('Apply M notes.txt? [y]es'), 'the third per-file question');
  type('y');
  const end = await waitFor((s) => s.includes('RUN-EXIT='), 'run to exit', 30_000);
  expect(end).toContain('--review: applied 1 change to');
  expect(end).toContain('RUN-EXIT=7');
  expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('alpha\nbeta\ngamma\n');
  expect(readdirSync(dir).sort()).toEqual(['keep.txt', 'notes.txt']);
});
