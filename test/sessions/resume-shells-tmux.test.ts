/**
 * A kept VM's shells outlive its suspension (issue #18), in tmux against one real VM: `run NAME --keep`,
 * a marker and `echo $$` in the first tab, a second tab running `sleep` in the foreground; `stop NAME`
 * saves it; `attach NAME` resumes it with both tabs, the first tab's old screen (the marker), the same
 * shells (same `$$`) and the `sleep` still the foreground of its terminal. Then a damaged screen file:
 * the next resume re-attaches the same shell without its old screen, says so in the log, and leaves no
 * saved-shell file behind.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ghostPaths } from '../../src/host/store/paths.js';
import { SAVED_SHELLS_FILE } from '../../src/host/supervisor/saved-shells.js';
import { runCli } from '../helpers/cli.js';
import { tmuxPane } from '../helpers/tmux-pane.js';

const root = join(import.meta.dirname, '..', '..');
const socket = `vg-resume-shells-${process.pid}`;
const NAME = `rshell-${process.pid}`;
const keptDir = join(ghostPaths().stateDir, 'vms', NAME);
const pane = tmuxPane(socket, 'first');
const { tmux, waitFor, type } = pane;
const env = ['XDG_RUNTIME_DIR', 'XDG_CONFIG_HOME', 'XDG_STATE_HOME', 'XDG_CACHE_HOME', 'HOME', 'PATH']
  .filter((k) => process.env[k])
  .map((k) => `${k}=${process.env[k]}`);
const cli = (args: string): string =>
  `cd ${root} && env ${env.join(' ')} TERM=tmux-256color VIRTUALGHOST_ACCEL=tcg node bin/virtualghost.js ${args}; echo "CLI-EXIT=$?"; sleep 600`;
const prefix = (key: string): void => {
  tmux('send-keys', '-t', pane.target, 'C-]', key);
};
const valueOf = (screen: string, key: string): string => {
  const all = [...screen.matchAll(new RegExp(`${key}=(\\d+)`, 'g'))];
  return all.at(-1)?.[1] ?? '';
};
const execIn = async (script: string): Promise<string> => {
  const r = await runCli(['exec', NAME, '--', 'sh', '-c', script]);
  expect(r.code, r.stderr.toString()).toBe(0);
  return r.stdout.toString().trim();
};
/** "1" while `pid` runs as the foreground process group of its terminal (stat: pgrp is tpgid). */
const inForeground = (pid: string): Promise<string> =>
  execIn(`awk '{ print ($5 == $8) ? 1 : 0 }' /proc/${pid}/stat 2>/dev/null || echo gone`);
const stopAndWait = async (): Promise<void> => {
  const stopped = await runCli(['stop', NAME], { timeoutMs: 120_000 });
  expect(stopped.code, stopped.stderr.toString()).toBe(0);
  const ps = JSON.parse((await runCli(['ps', '--json'])).stdout.toString()) as Array<Record<string, unknown>>;
  expect(ps.find((r) => r['name'] === NAME)).toEqual(expect.objectContaining({ state: 'suspended' }));
};
const newTerminal = (name: string, args: string): void => {
  tmux('new-session', '-d', '-s', name, '-x', '100', '-y', '30', cli(args));
  try {
    tmux('kill-session', '-t', pane.target);
  } catch {
    /* its command ended */
  }
  pane.target = name;
};

afterAll(async () => {
  try {
    tmux('kill-server');
  } catch {
    /* already gone */
  }
  await runCli(['stop', NAME, '--discard-state']);
  await runCli(['rm', NAME]);
});

describe('a resumed VM keeps its shells and screens', () => {
  let pid0 = '';
  let pid1 = '';
  let sleepPid = '';

  it('attach after stop NAME: both tabs, the old screen, the same shells, the foreground program running', async () => {
    tmux('new-session', '-d', '-s', pane.target, '-x', '100', '-y', '30', cli(`run ${NAME} --keep`));
    await waitFor((s) => s.includes('root@ghost') && s.includes(NAME), 'the guest prompt', 150_000);
    type('echo marker-$((6*7))-tab0; echo "pid0=$$"');
    pid0 = valueOf(await waitFor((s) => /pid0=\d+/.test(s), 'the first shell pid'), 'pid0');
    prefix('c');
    await waitFor((s) => !s.includes('marker-42-tab0') && s.includes('root@ghost'), 'a second tab', 60_000);
    type(`echo "pid1=$$"; sh -c 'echo "fg=$$"; exec sleep 1000'`);
    const second = await waitFor((s) => /fg=\d+/.test(s), 'the foreground sleep');
    pid1 = valueOf(second, 'pid1');
    sleepPid = valueOf(second, 'fg');
    expect(pid1).not.toBe(pid0);
    expect(await inForeground(sleepPid)).toBe('1');

    await stopAndWait();
    expect(readdirSync(keptDir)).toEqual(expect.arrayContaining([SAVED_SHELLS_FILE, 'shell-0.screen']));

    newTerminal('second', `attach ${NAME}`);
    // Tab 0 is shown first: its screen from before the save, drawn before anything is typed.
    await waitFor((s) => s.includes('marker-42-tab0') && s.includes(NAME), 'the saved screen of tab 0', 150_000);
    type('echo "again0=$$"');
    expect(valueOf(await waitFor((s) => /again0=\d+/.test(s), 'the shell pid'), 'again0')).toBe(pid0);
    prefix('1');
    await waitFor((s) => s.includes(`fg=${sleepPid}`), 'the saved screen of tab 1');
    expect(await inForeground(sleepPid)).toBe('1');
    tmux('send-keys', '-t', pane.target, 'C-c');
    type('echo "again1=$$"');
    expect(valueOf(await waitFor((s) => /again1=\d+/.test(s), 'the second shell pid'), 'again1')).toBe(pid1);
    expect(existsSync(join(keptDir, SAVED_SHELLS_FILE))).toBe(false);
  }, 400_000);

  it('a damaged screen file: the same shell comes back without its old screen, with a log line', async () => {
    prefix('0');
    type('clear; echo second-marker-$((7*7))');
    await waitFor((s) => /^second-marker-49$/m.test(s), 'the new marker');
    await stopAndWait();
    writeFileSync(join(keptDir, 'shell-0.screen'), 'second-marker-49 but not the screen that was saved\n');

    newTerminal('third', `attach ${NAME}`);
    await waitFor((s) => s.includes(NAME), 'the TUI', 150_000);
    await new Promise((r) => setTimeout(r, 1000));
    type('echo "again0=$$"');
    const screen = await waitFor((s) => /again0=\d+/.test(s), 'the shell pid');
    expect(valueOf(screen, 'again0')).toBe(pid0);
    expect(screen).not.toContain('second-marker-49');
    const log = readFileSync(join(ghostPaths().vmsDir, NAME, 'supervisor.log'), 'utf8');
    expect(log).toContain('tab 0 is re-attached without its old screen: shell-0.screen is not the one saved');
    expect(readdirSync(keptDir).filter((n) => n.endsWith('.screen') || n === SAVED_SHELLS_FILE)).toEqual([]);
  }, 300_000);
});
