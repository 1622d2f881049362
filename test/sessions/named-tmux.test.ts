/**
 * A named VM as a person uses it, in tmux: `run NAME`, set some shell state, detach with prefix-d, see it
 * in `ps`, `attach NAME` from a new terminal and find the screen and the state as they were, then quit with
 * prefix-q, which stops the VM and leaves nothing behind.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tmuxPane } from '../helpers/tmux-pane.js';
import { ghostPaths } from '../../src/host/store/paths.js';
import { runCli } from '../helpers/cli.js';
import { eventually } from '../helpers/cli-child.js';

const root = join(import.meta.dirname, '..', '..');
const socket = `vg-named-${process.pid}`;
const NAME = 'tmuxvm';
const pane = tmuxPane(socket, 'first');
const { tmux, waitFor, type } = pane;
const env = ['XDG_RUNTIME_DIR', 'XDG_CONFIG_HOME', 'XDG_STATE_HOME', 'XDG_CACHE_HOME', 'HOME', 'PATH']
  .filter((k) => process.env[k])
  .map((k) => `${k}=${process.env[k]}`);
const cli = (args: string): string =>
  `cd ${root} && env ${env.join(' ')} TERM=tmux-256color VIRTUALGHOST_ACCEL=tcg node bin/virtualghost.js ${args}; echo "CLI-EXIT=$?"; sleep 600`;

afterAll(async () => {
  try {
    tmux('kill-server');
  } catch {
    /* already gone */
  }
  await runCli(['stop', NAME]);
});

describe('run NAME, detach, attach, quit — in tmux against a real VM', () => {
  it('detaching keeps the VM, its shell and the shell state; attaching brings back the screen', async () => {
    tmux('new-session', '-d', '-s', pane.target, '-x', '100', '-y', '30', cli(`run ${NAME}`));
    await waitFor((s) => s.includes('root@ghost') && s.includes(NAME), 'the guest prompt and the status line', 150_000);
    type('export SECRET_STATE=kept-$((6*7)); cd /tmp; echo marker-before-detach');
    await waitFor((s) => s.includes('\nmarker-before-detach'), 'the command output');
    tmux('send-keys', '-t', pane.target, 'C-]', 'd');
    const detached = await waitFor((s) => s.includes('CLI-EXIT='), 'run to end after detaching');
    expect(detached).toMatch(/detached from tmuxvm/);
    expect(detached).toContain('CLI-EXIT=0');

    const ps = await runCli(['ps', '--json']);
    expect(ps.code).toBe(0);
    const rows = JSON.parse(ps.stdout.toString()) as Array<Record<string, unknown>>;
    expect(rows).toEqual([
      expect.objectContaining({
        name: NAME,
        state: 'running',
        kind: 'supervised',
        backend: 'qemu',
        accel: 'tcg',
        shells: 1,
        sessions: 0,
      }),
    ]);

    // A new terminal (the first one's session goes after the new one exists: the server stays up).
    tmux('new-session', '-d', '-s', 'second', '-x', '90', '-y', '25', cli(`attach ${NAME}`));
    tmux('kill-session', '-t', pane.target);
    pane.target = 'second';
    // The screen as it was: the earlier command line and its output are shown before we type anything.
    await waitFor((s) => s.includes('marker-before-detach') && s.includes(NAME), 'the restored screen');
    type('echo "state=$SECRET_STATE cwd=$PWD"; stty size');
    const after = await waitFor(
      (s) => s.includes('state=kept-42 cwd=/tmp') && /\n24 90\s*\n/.test(s),
      'the shell state and the new size',
    );
    expect(after).toContain('state=kept-42 cwd=/tmp');
  });

  it('prefix-q asks while programs run, then stops the VM: the supervisor, the VMM and the per-VM dir are gone', async () => {
    const dir = join(ghostPaths().vmsDir, NAME);
    expect(existsSync(dir)).toBe(true);
    type('sleep 600 &');
    await new Promise((r) => setTimeout(r, 1000));
    tmux('send-keys', '-t', pane.target, 'C-]', 'q');
    await waitFor((s) => s.includes('1 process running — quit and destroy the VM? (y/n)'), 'the quit confirmation');
    tmux('send-keys', '-t', pane.target, 'y');
    const end = await waitFor((s) => s.includes('CLI-EXIT='), 'attach to end', 40_000);
    expect(end).toContain('stopped tmuxvm');
    expect(end).toContain('CLI-EXIT=0');
    expect(existsSync(dir)).toBe(false);
    expect(
      await eventually(
        () => !execFileSync('ps', ['-eo', 'args='], { encoding: 'utf8' }).includes(`__supervise ${NAME}`),
        5000,
      ),
    ).toBe(true);
    const ps = await runCli(['ps', '--json']);
    expect(JSON.parse(ps.stdout.toString())).toEqual([]);
  });
});
