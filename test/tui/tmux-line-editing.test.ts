/**
 * Line editing with new emoji in bash through Ghostly Term, with tmux as the user's terminal (real PTYs
 * both sides). readline places the cursor by glibc's wcwidth, so the edit line shows right only if our
 * emulator counts 🥲 (Unicode 13) as 2 cells as well (issue #13: it showed `echoZ   🥲 endd`).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tmuxPane } from '../helpers/tmux-pane.js';

const root = join(import.meta.dirname, '..', '..');
const bundle = join(root, 'dist', 'tui-test', 'local-shell-line-editing.mjs');
const socket = `vg-tui-edit-${process.pid}`;
const pane = tmuxPane(socket, 'edit');

beforeAll(() => {
  buildSync({
    entryPoints: [join(import.meta.dirname, 'local-shell.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    outfile: bundle,
    logLevel: 'error',
  });
});

afterAll(() => {
  try {
    execFileSync('tmux', ['-L', socket, 'kill-server'], { stdio: 'ignore' });
  } catch {
    /* already gone */
  }
});

describe('bash line editing with Unicode 13 emoji through Ghostly Term', () => {
  it('inserts after the first 🥲 where readline says the cursor is', async () => {
    // A UTF-8 locale for bash (readline counts by wcwidth only then) and for tmux.
    pane.tmux(
      '-f',
      '/dev/null',
      'new-session',
      '-d',
      '-s',
      'edit',
      '-x',
      '80',
      '-y',
      '12',
      `cd ${root} && env LANG=C.UTF-8 LC_ALL=C.UTF-8 node ${bundle}; sleep 600`,
    );
    await pane.waitFor((s) => s.startsWith('$') && s.includes('local-test'), 'prompt and status line');
    pane.tmux('send-keys', '-t', 'edit', '-l', 'echo 🥲🥲🥲 end');
    await pane.waitFor((s) => s.includes('🥲🥲🥲 end'), 'the typed line');
    pane.tmux('send-keys', '-t', 'edit', 'C-a');
    for (let i = 0; i < 6; i++) pane.tmux('send-keys', '-t', 'edit', 'C-f');
    pane.tmux('send-keys', '-t', 'edit', '-l', 'Z');
    const screen = await pane.waitFor((s) => s.includes('Z'), 'the inserted Z');
    // Give readline a moment for any redraw after the Z, then read the edit line as shown.
    await new Promise((r) => setTimeout(r, 300));
    const line = pane.capture().split('\n')[0]?.trimEnd();
    expect(line, `screen was:\n${screen}`).toBe('$ echo 🥲Z🥲🥲 end');
    // bash's own buffer agrees with what is shown.
    pane.tmux('send-keys', '-t', 'edit', 'Enter');
    const after = await pane.waitFor((s) => s.split('\n')[1]?.trimEnd() === '🥲Z🥲🥲 end', 'the echoed line');
    expect(after.split('\n')[0]?.trimEnd()).toBe('$ echo 🥲Z🥲🥲 end');
  });
});
