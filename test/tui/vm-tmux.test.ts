/**
 * The TUI as a person uses it, against a real VM: tmux plays the user's terminal and runs
 * `virtualghost run` (QEMU TCG). We type, edit with vim, run top, resize, open a second tab, exit
 * every shell, and check that the terminal is restored and the VM is gone.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureImage } from '../../src/host/image/build.js';
import { ghostPaths } from '../../src/host/store/paths.js';

const root = join(import.meta.dirname, '..', '..');
const socket = `vg-tui-vm-${process.pid}`;
const S = 'vm';
const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
const capture = (): string => tmux('capture-pane', '-p', '-t', S);

async function waitFor(check: (screen: string) => boolean, what: string, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let screen = '';
  while (Date.now() < deadline) {
    screen = capture();
    if (check(screen)) return screen;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}; screen was:\n${screen}`);
}
const type = (text: string): void => {
  tmux('send-keys', '-t', S, '-l', text);
  tmux('send-keys', '-t', S, 'Enter');
};

let kernelRelease = '';
beforeAll(async () => {
  kernelRelease = (await ensureImage({ imagesDir: ghostPaths().imagesDir })).manifest.kernelRelease;
  const env = ['XDG_RUNTIME_DIR', 'XDG_CONFIG_HOME', 'XDG_STATE_HOME', 'XDG_CACHE_HOME', 'HOME', 'PATH'].filter((k) => process.env[k]).map((k) => `${k}=${process.env[k]}`);
  const cmd = `cd ${root} && env ${env.join(' ')} TERM=tmux-256color VIRTUALGHOST_ACCEL=tcg node bin/virtualghost.js run; echo "SHELL-EXIT=$?"; stty -a | tr '\\n' ' '; echo; sleep 600`;
  tmux('new-session', '-d', '-s', S, '-x', '100', '-y', '30', cmd);
});
afterAll(() => {
  try {
    tmux('kill-server');
  } catch {
    /* already gone */
  }
});

describe('virtualghost run in tmux, against a real VM', () => {
  it('shows the guest shell with a status line, sized to the pane minus that line', async () => {
    const screen = await waitFor((s) => s.includes('root@ghost') && s.includes('qemu/tcg'), 'the guest prompt and the status line', 120_000);
    expect(screen.split('\n').some((l) => /^ 0:shell\*.*qemu\/tcg/.test(l))).toBe(true);
    type('uname -r; stty size');
    const after = await waitFor((s) => s.includes(kernelRelease) && /\n29 100\s*\n/.test(s), 'uname and stty output');
    expect(after).toContain(kernelRelease);
  });

  it('vim edits and saves a file; top draws and quits', async () => {
    type('vi /root/note.txt');
    await waitFor((s) => s.includes('[New]') || /^~\s*$/m.test(s), 'vim to draw its screen', 30_000);
    tmux('send-keys', '-t', S, 'i', 'hello from vim', 'Escape', ':wq', 'Enter');
    await waitFor((s) => /written/.test(s) || !/^~\s*$/m.test(s), 'vim to write and quit');
    type('clear; cat /root/note.txt');
    await waitFor((s) => s.includes('hello from vim'), 'the saved file');
    type('top');
    await waitFor((s) => s.includes('load average') && s.includes('PID'), 'top', 30_000);
    tmux('send-keys', '-t', S, 'q');
    await waitFor((s) => !s.includes('load average') && s.includes('root@ghost'), 'top to quit');
  });

  it('follows a resize of the outer terminal', async () => {
    tmux('resize-window', '-t', S, '-x', '120', '-y', '40');
    await new Promise((r) => setTimeout(r, 500));
    type('clear; stty size');
    await waitFor((s) => /(^|\n)39 120\s*\n/.test(s), '`stty size` to say 39 120');
  });

  it('opens a second tab with its own shell, and switches back', async () => {
    type('echo first-shell-$$');
    const first = await waitFor((s) => /first-shell-\d+\s*\n/.test(s), 'the first shell pid');
    const pid1 = /first-shell-(\d+)\s*\n/.exec(first)?.[1];
    tmux('send-keys', '-t', S, 'C-]', 'c');
    await waitFor((s) => s.includes('1:shell*'), 'a second tab in the status line');
    await waitFor((s) => s.includes('root@ghost'), 'the second prompt');
    type('echo second-shell-$$');
    const second = await waitFor((s) => /second-shell-\d+\s*\n/.test(s), 'the second shell pid');
    const pid2 = /second-shell-(\d+)\s*\n/.exec(second)?.[1];
    expect(pid2).not.toBe(pid1);
    tmux('send-keys', '-t', S, 'C-]', '0');
    await waitFor((s) => s.includes('0:shell*') && s.includes(`first-shell-${pid1}`), 'the first tab again');
  });

  it('exiting every shell ends the TUI, restores the terminal and leaves no VM behind', async () => {
    type('exit');
    await waitFor((s) => s.includes('0:shell*') && !s.includes('1:shell'), 'one tab left');
    type('exit');
    const screen = await waitFor((s) => s.includes('SHELL-EXIT='), 'the TUI to end', 30_000);
    expect(screen).toContain('SHELL-EXIT=0');
    const stty = tmux('capture-pane', '-p', '-J', '-t', S).split('\n').find((l) => l.includes('speed')) ?? '';
    expect(stty).toMatch(/(^|\s)icanon(\s|$)/);
    expect(stty).toMatch(/(^|\s)echo(\s|$)/);
    expect(tmux('display', '-p', '-t', S, '#{alternate_on} #{cursor_flag} #{mouse_any_flag}').trim()).toBe('0 1 0');
    const vms = ghostPaths().vmsDir;
    expect(existsSync(vms) ? readdirSync(vms) : []).toEqual([]);
  });
});
