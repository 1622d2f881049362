/**
 * End to end in a real terminal: tmux plays the user's terminal, the TUI runs around a local bash
 * (node-pty) through test/tui/local-shell.ts. We type, resize, open tabs, scroll back, run vim,
 * less and top, quit, and check that tmux's terminal is left in cooked mode with no stray modes.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const bundle = join(root, 'dist', 'tui-test', 'local-shell.mjs');
const socket = `vg-tui-test-${process.pid}`;
const work = mkdtempSync(join(tmpdir(), 'vg-tui-'));

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
}

function capture(session: string): string {
  return tmux('capture-pane', '-p', '-t', session);
}

async function waitFor(
  session: string,
  check: (screen: string) => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let screen = '';
  while (Date.now() < deadline) {
    screen = capture(session);
    if (check(screen)) return screen;
    await new Promise((r) => setTimeout(r, 50));
  }
  const size = tmux('display', '-p', '-t', session, '#{pane_width}x#{pane_height}').trim();
  throw new Error(`timed out waiting for ${what}; pane ${size}, screen was:\n${screen}`);
}

const has =
  (text: string) =>
  (screen: string): boolean =>
    screen.includes(text);
const lines = (screen: string): string[] => screen.split('\n');

function start(session: string, env: Record<string, string> = {}, size = { cols: 100, rows: 30 }): void {
  const vars = Object.entries(env)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  // After the TUI: report its exit code and the terminal's state, then keep the pane open.
  const cmd = `cd ${root} && env ${vars} node ${bundle}; echo "SHELL-EXIT=$?"; stty -a | tr '\\n' ' '; echo; sleep 600`;
  tmux('new-session', '-d', '-s', session, '-x', String(size.cols), '-y', String(size.rows), cmd);
}

function keys(session: string, ...k: string[]): void {
  tmux('send-keys', '-t', session, ...k);
}

function type(session: string, text: string): void {
  tmux('send-keys', '-t', session, '-l', text);
  tmux('send-keys', '-t', session, 'Enter');
}

function restoredChecks(session: string, screen: string): void {
  expect(screen).toContain('SHELL-EXIT=');
  // -J joins the wrapped `stty -a` line back together.
  const stty = lines(tmux('capture-pane', '-p', '-J', '-t', session)).find((l) => l.includes('speed')) ?? '';
  expect(stty).toMatch(/(^|\s)icanon(\s|$)/);
  expect(stty).toMatch(/(^|\s)echo(\s|$)/);
  expect(stty).not.toMatch(/-icanon|-echo\s/);
  const flags = tmux(
    'display',
    '-p',
    '-t',
    session,
    '#{alternate_on} #{cursor_flag} #{mouse_any_flag} #{mouse_button_flag} #{mouse_sgr_flag} #{keypad_cursor_flag} #{keypad_flag} #{wrap_flag}',
  ).trim();
  // not on the alternate screen, cursor visible, no mouse reporting, normal cursor keys and keypad,
  // autowrap back on (the renderer draws with it off)
  expect(flags).toBe('0 1 0 0 0 0 0 1');
}

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
    tmux('kill-server');
  } catch {
    /* already gone */
  }
  rmSync(work, { recursive: true, force: true });
});

describe('Ghostly Term in tmux around a local shell', () => {
  const s = 'main';

  it('starts with the status line at the bottom and the guest one row shorter', async () => {
    start(s);
    const screen = await waitFor(s, (sc) => sc.includes('local-test') && sc.startsWith('$'), 'prompt and status line');
    expect(lines(screen)[29]).toContain('0:shell*');
    expect(lines(screen)[29]).toContain('qemu/tcg');
    type(s, 'stty size');
    await waitFor(s, has('29 100'), 'stty size 29 100');
  });

  it('types a command and reads the answer', async () => {
    type(s, 'echo hello-$((6*7))');
    await waitFor(s, has('hello-42'), 'command output');
  });

  it('follows a resize of the terminal', async () => {
    tmux('resize-window', '-t', s, '-x', '120', '-y', '40');
    type(s, 'clear; stty size');
    const screen = await waitFor(s, has('39 120'), 'stty size 39 120');
    expect(lines(screen)[39]).toContain('local-test');
    // A storm of resizes ends on the final size with an intact screen.
    for (const [x, y] of [
      [90, 20],
      [130, 45],
      [70, 15],
      [110, 35],
    ] as const)
      tmux('resize-window', '-t', s, '-x', String(x), '-y', String(y));
    // tmux itself queues pane resizes and delivers the last one a little later: wait for our
    // status line to land on the final last row, then ask the guest.
    await waitFor(s, (sc) => lines(sc)[34]?.includes('local-test') === true, 'status line on row 35');
    type(s, 'clear; stty size; echo after-storm');
    const after = await waitFor(
      s,
      (sc) => sc.includes('34 110') && sc.includes('after-storm'),
      'stty size after storm',
    );
    expect(lines(after)[34]).toContain('0:shell*');
    expect(lines(after).slice(0, 3)).toEqual(['34 110', 'after-storm', '$']);
  });

  it('opens a second tab with a second shell, and switches back', async () => {
    type(s, 'echo first-pid-$$');
    const first = /first-pid-(\d+)/.exec(await waitFor(s, (sc) => /first-pid-\d/.test(sc), 'first pid'))?.[1];
    keys(s, 'C-]', 'c');
    await waitFor(s, has('1:shell*'), 'second tab in the status line');
    type(s, 'echo second-pid-$$');
    const second = /second-pid-(\d+)/.exec(await waitFor(s, (sc) => /second-pid-\d/.test(sc), 'second pid'))?.[1];
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    keys(s, 'C-]', 'p');
    const back = await waitFor(s, has('0:shell*'), 'first tab active again');
    expect(back).toContain(`first-pid-${first}`);
    expect(back).not.toContain('second-pid-');
  });

  it('shows lines that scrolled away in copy mode', async () => {
    type(s, 'clear; seq 1 300');
    await waitFor(s, (sc) => /^300$/m.test(sc), 'seq output');
    expect(capture(s)).not.toMatch(/^200$/m);
    keys(s, 'C-]', '[');
    await waitFor(s, has('[COPY'), 'copy mode indicator');
    keys(s, 'PageUp', 'PageUp', 'PageUp');
    const scrolled = await waitFor(s, (sc) => /^200$/m.test(sc), 'line 200 in the scrollback');
    expect(scrolled).not.toMatch(/^300$/m);
    keys(s, 'q');
    await waitFor(s, (sc) => /^300$/m.test(sc) && !sc.includes('[COPY'), 'back to the live screen');
  });

  it('runs vim: opens, edits and saves a file', async () => {
    const file = join(work, 'note.txt');
    type(s, `vim -u NONE -N ${file}`);
    await waitFor(s, (sc) => lines(sc).filter((l) => l.startsWith('~')).length > 5, 'vim empty buffer');
    keys(s, 'i');
    tmux('send-keys', '-t', s, '-l', 'written in vim');
    keys(s, 'Escape');
    type(s, ':wq');
    await waitFor(s, (sc) => sc.includes('$ ') && !sc.includes('~   '), 'back at the prompt');
    await new Promise((r) => setTimeout(r, 100));
    expect(readFileSync(file, 'utf8')).toBe('written in vim\n');
  });

  it('runs less and pages', async () => {
    type(s, 'seq 1 1000 | less');
    await waitFor(s, (sc) => /^1$/m.test(sc) && /^30$/m.test(sc), 'first page of less');
    keys(s, 'Space');
    await waitFor(s, (sc) => /^40$/m.test(sc) && !/^1$/m.test(sc), 'second page of less');
    keys(s, 'q');
    await waitFor(s, (sc) => !/^40$/m.test(sc) || sc.includes('$ '), 'less quit');
  });

  it('runs top and quits', async () => {
    type(s, 'top -d 1');
    await waitFor(s, (sc) => /load average/.test(sc) && /PID/.test(sc), 'top screen');
    keys(s, 'q');
    await waitFor(s, (sc) => !/load average/.test(sc), 'top gone');
  });

  it('quits with prefix q and leaves the terminal usable', async () => {
    keys(s, 'C-]', 'q');
    const screen = await waitFor(s, has('SHELL-EXIT='), 'the TUI to exit');
    expect(screen).toContain('TUI-EXIT code=0 reason=quit');
    expect(screen).toContain('SHELL-EXIT=0');
    restoredChecks(s, screen);
  });
});

describe('Ghostly Term exit paths', () => {
  it("status line on top: offsets the guest, ends with the last shell's exit code", async () => {
    const s = 'top';
    start(s, { TUI_STATUS: 'top' }, { cols: 80, rows: 24 });
    const screen = await waitFor(
      s,
      (sc) => sc.includes('local-test') && lines(sc)[1]?.startsWith('$') === true,
      'status on top',
    );
    expect(lines(screen)[0]).toContain('0:shell*');
    type(s, 'stty size');
    await waitFor(s, has('23 80'), 'stty size 23 80');
    type(s, 'exit 7');
    const end = await waitFor(s, has('SHELL-EXIT='), 'exit');
    expect(end).toContain('TUI-EXIT code=7 reason=shell-exited');
    restoredChecks(s, end);
  });

  it('restores the terminal on SIGTERM', async () => {
    const s = 'term';
    const pidfile = join(work, 'pid');
    start(s, { TUI_PIDFILE: pidfile }, { cols: 80, rows: 24 });
    await waitFor(s, (sc) => sc.includes('local-test') && sc.startsWith('$'), 'prompt');
    // Leave the guest in modes the user's terminal must not keep: mouse, app cursor keys, hidden cursor.
    type(s, "printf '\\e[?1000h\\e[?1006h\\e[?1h\\e=\\e[?25l'; sleep 100");
    await new Promise((r) => setTimeout(r, 300));
    expect(tmux('display', '-p', '-t', s, '#{mouse_any_flag}#{keypad_cursor_flag}#{cursor_flag}').trim()).toBe('110');
    process.kill(Number(readFileSync(pidfile, 'utf8')), 'SIGTERM');
    const end = await waitFor(s, has('SHELL-EXIT='), 'exit after SIGTERM');
    expect(end).toContain('TUI-EXIT code=143 reason=signal');
    restoredChecks(s, end);
  });

  it('asks before quitting when processes are running', async () => {
    const s = 'confirm';
    start(s, { TUI_PROCESSES: '2' }, { cols: 100, rows: 24 });
    await waitFor(s, (sc) => sc.includes('local-test') && sc.startsWith('$'), 'prompt');
    keys(s, 'C-]', 'q');
    await waitFor(s, has('2 processes running'), 'quit confirmation');
    keys(s, 'n');
    await waitFor(s, (sc) => !sc.includes('processes running'), 'confirmation dismissed');
    type(s, 'echo still-here');
    await waitFor(s, has('still-here'), 'still running');
    keys(s, 'C-]', 'q');
    await waitFor(s, has('2 processes running'), 'quit confirmation again');
    keys(s, 'y');
    const end = await waitFor(s, has('SHELL-EXIT='), 'exit');
    expect(end).toContain('TUI-EXIT code=0 reason=quit');
    restoredChecks(s, end);
  });
});
