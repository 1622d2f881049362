/**
 * Re-attach keeps the terminal state (issue #13 item 4), on a real named VM in tmux: a guest program sets
 * a title, hides the cursor, turns on button-drag mouse with SGR encoding, application cursor and keypad,
 * custom tab stops, a DECSC cursor with line drawing in G0, line drawing in G1, a scroll region and
 * origin mode; we detach (prefix-d) and attach from a new terminal; then the outer terminal must be in the
 * mirrored modes, a click must reach the guest SGR-encoded, and what the guest prints next must draw
 * exactly what plain tmux draws for the same bytes (the reference).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tmuxPane } from '../helpers/tmux-pane.js';
import { runCli } from '../helpers/cli.js';

const root = join(import.meta.dirname, '..', '..');
const socket = `vg-reattach-${process.pid}`;
const NAME = 'modesvm';
const pane = tmuxPane(socket, 'first');
const { tmux, waitFor, type } = pane;
const env = ['XDG_RUNTIME_DIR', 'XDG_CONFIG_HOME', 'XDG_STATE_HOME', 'XDG_CACHE_HOME', 'HOME', 'PATH']
  .filter((k) => process.env[k])
  .map((k) => `${k}=${process.env[k]}`);
const cli = (args: string): string =>
  `cd ${root} && env ${env.join(' ')} TERM=tmux-256color VIRTUALGHOST_ACCEL=tcg node bin/virtualghost.js ${args}; echo "CLI-EXIT=$?"; sleep 600`;

/** printf formats (bash's printf interprets them, in the guest and for the reference alike). */
const SETUP =
  String.raw`\e[H\e[2J\e]2;vg-modes\a\e[?25l\e[?1002h\e[?1006h\e[?1h\e=\e[3g\e[1;5H\eH\e[1;13H\eH` +
  String.raw`\e[4;7H\e(0\e7\e(B\e)0\e[5;20r\e[?6h\e[2;1Hready`;
/** After the attach: G1 line drawing, origin-relative rows and the tab stops, DECRC, a region scroll. */
const AFTER = String.raw`\x0elqk\x0f\e[3;1H\tT\tU\e[?6l\e8q\e[?6h\e[16;1H\n\e[?6l\e(B\e[22;1Hafter-attach`;
/** Each line the guest reads: m… prints the rest as od -c (to see a mouse report), else printf's it. */
const LOOP = `stty -echo; printf '${SETUP}'; while IFS= read -r l; do case $l in m*) printf '%s' "\${l#m}" | od -An -c | tr -s ' ' | tr -d '\\n'; printf '\\n';; *) printf "$l";; esac; done`;

const rowsOf = (screen: string, n: number): string[] =>
  screen
    .split('\n')
    .slice(0, n)
    .map((l) => l.trimEnd());

/** DEC special graphics, for the reference: tmux keeps line drawing as ASCII and capture -e wraps it in SO/SI. */
const DEC_GRAPHICS: Record<string, string> = {
  '`': '◆',
  a: '▒',
  b: '␉',
  c: '␌',
  d: '␍',
  e: '␊',
  f: '°',
  g: '±',
  h: '␤',
  i: '␋',
  j: '┘',
  k: '┐',
  l: '┌',
  m: '└',
  n: '┼',
  o: '⎺',
  p: '⎻',
  q: '─',
  r: '⎼',
  s: '⎽',
  t: '├',
  u: '┤',
  v: '┴',
  w: '┬',
  x: '│',
  y: '≤',
  z: '≥',
  '{': 'π',
  '|': '≠',
  '}': '£',
  '~': '·',
};
/* eslint-disable no-control-regex -- SO/SI and SGR in tmux's capture are what this undoes */
const lineDrawn = (captured: string): string =>
  captured
    .replace(/\x0e([^\x0f]*)\x0f/g, (_m, run: string) => [...run].map((c) => DEC_GRAPHICS[c] ?? c).join(''))
    .replace(/\x1b\[[0-9;:]*m/g, '');
/* eslint-enable no-control-regex */

afterAll(async () => {
  try {
    tmux('kill-server');
  } catch {
    /* already gone */
  }
  await runCli(['stop', NAME]);
});

describe('detach and attach keep the terminal state — in tmux against a real VM', () => {
  it('restores modes, charsets, tab stops, the saved cursor, the region and the title', async () => {
    tmux('-f', '/dev/null', 'new-session', '-d', '-s', pane.target, '-x', '100', '-y', '30', cli(`run ${NAME}`));
    await waitFor((s) => s.includes('root@ghost') && s.includes(NAME), 'the guest prompt and the status line', 150_000);
    type(LOOP);
    await waitFor(
      (s) => s.split('\n')[5]?.startsWith('ready') === true && !s.includes('stty -echo'),
      "the program's screen",
    );
    tmux('send-keys', '-t', pane.target, 'C-]', 'd');
    await waitFor((s) => s.includes('CLI-EXIT='), 'run to end after detaching');

    tmux('new-session', '-d', '-s', 'second', '-x', '100', '-y', '30', cli(`attach ${NAME}`));
    tmux('kill-session', '-t', pane.target);
    pane.target = 'second';
    await waitFor((s) => s.split('\n')[5]?.startsWith('ready') === true && s.includes(NAME), 'the restored screen');

    // The outer terminal mirrors the guest's modes again: hidden cursor, button-drag mouse, app cursor
    // and keypad, and the guest's title (was: cursor visible and the VM name).
    await waitFor(
      () => tmux('display', '-p', '-t', 'second', '#{pane_title}').trim() === 'vg-modes',
      'the title',
      10_000,
    );
    expect(
      tmux(
        'display',
        '-p',
        '-t',
        'second',
        '#{cursor_flag} #{mouse_button_flag} #{keypad_cursor_flag} #{keypad_flag}',
      ).trim(),
    ).toBe('0 1 1 1');

    // A click reaches the guest in the encoding it asked for (SGR), not X10 bytes.
    tmux('send-keys', '-t', 'second', '-l', 'm');
    tmux('send-keys', '-t', 'second', '-l', '\x1b[<0;3;3M');
    tmux('send-keys', '-t', 'second', 'Enter');
    await waitFor((s) => s.includes('033 [ < 0 ; 3 ; 3 M'), 'the SGR mouse report as the guest read it');

    type(AFTER);
    const shown = await waitFor((s) => s.includes('after-attach'), 'the output after attaching');

    // The reference: plain tmux given the same bytes the guest printed, at the guest's size (29 rows).
    const bytes = execFileSync('bash', [
      '-c',
      `printf '${SETUP}'; printf '%s' "$(printf '%s' "${'$'}1" | od -An -c | tr -s ' ' | tr -d '\\n')"; printf '\\n'; printf '${AFTER}'`,
      'x',
      '\x1b[<0;3;3M',
    ]);
    tmux(
      'new-session',
      '-d',
      '-s',
      'ref',
      '-x',
      '100',
      '-y',
      '29',
      `stty -echo; printf '%s' '${bytes.toString('base64')}' | base64 -d; sleep 600`,
    );
    const ref = tmuxPane(socket, 'ref');
    await ref.waitFor((s) => s.includes('after-attach'), 'the reference screen');
    const expected = lineDrawn(tmux('capture-pane', '-p', '-e', '-t', 'ref'));
    expect(rowsOf(shown, 29)).toEqual(rowsOf(expected, 29));
    expect(rowsOf(shown, 29)[3]).toBe('      ─');
    expect(rowsOf(shown, 29)[5]).toBe('┌─┐ T       U');
  });
});
