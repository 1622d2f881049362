/**
 * `run` with input that is not a terminal: the guest shell reads it as a script, without a PTY, as
 * `ssh host <file` does. Before, it got a PTY shell that echoed every command back (piped) or, with
 * /dev/null as input, never ended: the TUI waited for keys that could not come, and a PTY ignores EOF.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tmuxPane } from '../helpers/tmux-pane.js';

const root = join(import.meta.dirname, '..', '..');
const socket = `vg-script-${process.pid}`;
const env = ['XDG_RUNTIME_DIR', 'XDG_CONFIG_HOME', 'XDG_STATE_HOME', 'XDG_CACHE_HOME', 'HOME', 'PATH']
  .filter((k) => process.env[k])
  .map((k) => `${k}=${process.env[k]}`);
const pane = tmuxPane(socket, 'script');

afterAll(() => {
  try {
    pane.tmux('kill-server');
  } catch {
    /* never started */
  }
});

describe('run with input that is not a terminal', () => {
  it('a piped script runs in a shell with no PTY: its stdout, its stderr apart, its exit status', async () => {
    const r = await runCli(['run', '--accel', 'tcg'], {
      stdin: 'echo "out:$(tty 2>&1)"\necho to-stderr >&2\nexit 3\n',
    });
    expect(r.code, r.stderr.toString()).toBe(3);
    // Nothing echoed back, no prompt: only what the script printed (tty(1) says there is no terminal).
    expect(r.stdout.toString()).toBe('out:not a tty\n');
    expect(r.stderr.toString()).toMatch(/^to-stderr$/m);
  });

  it('on a terminal with stdin from /dev/null: the shell ends at once, and so does run (exit 0)', async () => {
    pane.tmux(
      'new-session',
      '-d',
      '-s',
      pane.target,
      '-x',
      '100',
      '-y',
      '30',
      `cd ${root} && env ${env.join(' ')} TERM=tmux-256color node bin/virtualghost.js run --accel tcg </dev/null; echo "CLI-EXIT=$?"; sleep 600`,
    );
    const screen = await pane.waitFor((s) => s.includes('CLI-EXIT='), 'run to end', 120_000);
    expect(screen).toContain('CLI-EXIT=0');
  });
});
