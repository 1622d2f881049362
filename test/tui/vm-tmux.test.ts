/**
 * The TUI as a person uses it, against a real VM: tmux plays the user's terminal and runs
 * `virtualghost run` (QEMU TCG). We type, edit with vim, run top, resize, page with less, scroll back
 * and search, check that 16/256/truecolor reach tmux as sent, open a second tab, exit every shell,
 * and check that the terminal is restored and the VM is gone.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tmuxPane } from '../helpers/tmux-pane.js';
import { ensureImage } from '../../src/host/image/build.js';
import { ghostPaths } from '../../src/host/store/paths.js';

const root = join(import.meta.dirname, '..', '..');
const socket = `vg-tui-vm-${process.pid}`;
const S = 'vm';
const pane = tmuxPane(socket, S);
const { tmux, capture, waitFor, type } = pane;
const lines = (screen: string): string[] => screen.split('\n');

let kernelRelease = '';
beforeAll(async () => {
  kernelRelease = (await ensureImage({ imagesDir: ghostPaths().imagesDir })).manifest.kernelRelease;
  const env = ['XDG_RUNTIME_DIR', 'XDG_CONFIG_HOME', 'XDG_STATE_HOME', 'XDG_CACHE_HOME', 'HOME', 'PATH']
    .filter((k) => process.env[k])
    .map((k) => `${k}=${process.env[k]}`);
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
    const screen = await waitFor(
      (s) => s.includes('root@ghost') && s.includes('qemu/tcg'),
      'the guest prompt and the status line',
      120_000,
    );
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

  it("bash line editing with 🥲 (Unicode 13) in the guest: the edit shows where the guest's readline put it", async () => {
    // A UTF-8 locale for the guest's readline (else it counts bytes); the prompt is ours to find the line.
    type("clear; export LC_ALL=C.UTF-8 PS1='edit> '");
    await waitFor((s) => /^edit>\s*$/m.test(s), 'the new prompt');
    tmux('send-keys', '-t', S, '-l', 'echo 🥲🥲🥲 end');
    await waitFor((s) => s.includes('edit> echo 🥲🥲🥲 end'), 'the typed line');
    tmux('send-keys', '-t', S, 'C-a', 'C-f', 'C-f', 'C-f', 'C-f', 'C-f', 'C-f');
    tmux('send-keys', '-t', S, '-l', 'Z');
    await new Promise((r) => setTimeout(r, 500)); // let readline's redraw land
    const edited = await waitFor((s) => s.includes('Z'), 'the inserted Z');
    expect(
      lines(edited)
        .find((l) => l.startsWith('edit> echo'))
        ?.trimEnd(),
    ).toBe('edit> echo 🥲Z🥲🥲 end');
    tmux('send-keys', '-t', S, 'Enter');
    await waitFor((s) => /\n🥲Z🥲🥲 end\s*\n/.test(s), 'the echoed line');
    type("PS1='\\u@\\h:\\w\\$ '; clear");
    await waitFor((s) => s.includes('root@ghost') && !s.includes('edit>'), 'the usual prompt back');
  });

  it('less pages a file: space shows the next page, q returns to the prompt', async () => {
    // The guest area is 39 rows now: less shows 38 lines and its prompt, and space moves 38 on.
    type('clear; seq -f "page-line-%03g" 1 200 > /root/pages.txt; less /root/pages.txt');
    const first = await waitFor(
      (s) => s.includes('page-line-038') && !s.includes('seq -f'),
      'less to show the first page',
      30_000,
    );
    expect(lines(first)[0]).toBe('page-line-001');
    expect(first).not.toContain('page-line-039');
    tmux('send-keys', '-t', S, 'Space');
    const second = await waitFor((s) => s.includes('page-line-076'), 'the next page');
    expect(lines(second)[0]).toBe('page-line-039');
    expect(second).not.toContain('page-line-038');
    tmux('send-keys', '-t', S, 'q');
    const back = await waitFor((s) => !s.includes('page-line-076') && /root@ghost[^\n]*#\s*$/m.test(s), 'less to quit');
    expect(back).not.toContain('page-line-039');
    type('echo after-less');
    await waitFor((s) => /^after-less\s*$/m.test(s), 'the shell to answer after less');
  });

  it('scrollback: lines that scrolled away are shown again, found by search, and the view comes back live', async () => {
    type('clear; seq -f "sb-line-%04g" 1 300');
    const live = await waitFor((s) => /^sb-line-0300\s*$/m.test(s), 'the last numbered line', 30_000);
    expect(live).not.toContain('sb-line-0001');
    tmux('send-keys', '-t', S, 'C-]', '[');
    await waitFor((s) => /\[COPY [^\]]*\]/.test(s), 'copy mode in the status line');
    // Page up until the earliest lines are on screen.
    let screen = capture();
    for (let i = 0; i < 12 && !/^sb-line-0001\s*$/m.test(screen); i++) {
      tmux('send-keys', '-t', S, 'PPage');
      screen = await waitFor((s) => s !== screen, 'the view to move up');
    }
    expect(screen).toMatch(/^sb-line-0001\s*$/m);
    expect(screen).not.toContain('sb-line-0300');
    // Search forward ('?' here; '/' searches back towards older lines) for a line far below the view.
    tmux('send-keys', '-t', S, '?');
    tmux('send-keys', '-t', S, '-l', 'sb-line-0200');
    await waitFor((s) => s.includes('[?sb-line-0200]'), 'the search prompt in the status line');
    tmux('send-keys', '-t', S, 'Enter');
    const found = await waitFor((s) => /^sb-line-0200\s*$/m.test(s), 'the view to jump to the match');
    expect(found).not.toContain('sb-line-0001');
    expect(found).toMatch(/\[COPY -\d+\/\d+\]/);
    tmux('send-keys', '-t', S, 'q');
    const after = await waitFor((s) => !s.includes('[COPY') && /^sb-line-0300\s*$/m.test(s), 'the live screen again');
    expect(after).not.toMatch(/^sb-line-0200\s*$/m);
    type('clear');
  });

  it('16-colour, 256-colour and truecolor output reaches tmux as palette indexes and RGB', async () => {
    // The command line holds the text too, but there without the escape in front of it.
    type(
      "clear; printf '\\e[31mPAL16\\e[0m \\e[95mBRIGHT16\\e[0m \\e[38;5;123mFG256\\e[0m \\e[48;5;200mBG256\\e[0m \\e[38;2;10;200;30mFGRGB\\e[0m \\e[48;2;250;100;5mBGRGB\\e[0m\\n'",
    );
    await waitFor((s) => /^PAL16 BRIGHT16 FG256 BG256 FGRGB BGRGB\s*$/m.test(s), 'the coloured line', 30_000);
    const styled = tmux('capture-pane', '-p', '-e', '-t', S);
    const sgrBefore = (word: string): string[] => {
      // Every SGR sequence directly in front of `word` (tmux may split or merge them).
      const m = new RegExp(`((?:\\x1b\\[[0-9;:]*m)+)${word}\\b`).exec(styled);
      return (
        m?.[1]
          ?.split('\x1b[')
          .slice(1)
          .map((seq) => seq.slice(0, -1)) ?? []
      );
    };
    const params = (word: string): string => sgrBefore(word).join(';');
    expect(params('PAL16')).toMatch(/(^|;)31(;|$)/);
    expect(params('BRIGHT16')).toMatch(/(^|;)95(;|$)/);
    expect(params('FG256')).toMatch(/(^|;)38;5;123(;|$)/);
    expect(params('BG256')).toMatch(/(^|;)48;5;200(;|$)/);
    expect(params('FGRGB')).toMatch(/(^|;)38;2;10;200;30(;|$)/);
    expect(params('BGRGB')).toMatch(/(^|;)48;2;250;100;5(;|$)/);
    type('clear');
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
    const stty =
      tmux('capture-pane', '-p', '-J', '-t', S)
        .split('\n')
        .find((l) => l.includes('speed')) ?? '';
    expect(stty).toMatch(/(^|\s)icanon(\s|$)/);
    expect(stty).toMatch(/(^|\s)echo(\s|$)/);
    expect(tmux('display', '-p', '-t', S, '#{alternate_on} #{cursor_flag} #{mouse_any_flag}').trim()).toBe('0 1 0');
    const vms = ghostPaths().vmsDir;
    expect(existsSync(vms) ? readdirSync(vms) : []).toEqual([]);
  });
});
