/**
 * "Shown" throughput and memory of the terminal layer: mixed text/SGR output from a local program,
 * through Ghostly Term, or through tmux running the `run --raw` equivalent, into an outer terminal.
 *
 * The outer terminal is a PTY this process drains as fast as it can (node-pty), the same for both
 * sides. What "shown" means, precisely:
 *   1. the program prints a START marker and waits for a line on its terminal;
 *   2. when START arrives on the outer PTY (i.e. the TUI or tmux drew it), we press Enter there and
 *      start the clock — the Enter travels through the TUI or tmux to the program like a keystroke;
 *   3. the program writes the file (`repeat` times), then an END marker;
 *   4. the clock stops when END arrives on the outer PTY: the TUI or tmux drew the frame that shows
 *      the last line of output. Both coalesce frames under a flood, so intermediate screens may be
 *      skipped (as in any terminal), but nothing after END is waited for.
 * Markers use characters that the generated output never contains, so a frame diff cannot assemble
 * them from cells that happen to be on screen already.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pty from 'node-pty';
import { mixedOutput } from '../tui/bench.js';
import { rssBytes } from './vm-figures.js';

const RUNNER = fileURLToPath(new URL('./local-terminal.js', import.meta.url));
export const START = '#qzVGXstartXqz#';
export const END = '#qzVGXendXqz#';

export interface ShownResult {
  via: 'tui' | 'tmux';
  bytes: number;
  seconds: number;
  mbPerSec: number;
  /** RSS of the process that holds the screen: the TUI, or the tmux server (plus the raw passthrough). */
  rssBytes: number;
  /** Peak RSS (VmHWM) of the TUI process; NaN for tmux (its server may predate this run's peak). */
  peakRssBytes: number;
}

/**
 * A scratch dir with `megabytes` of deterministic mixed output (16/256/truecolor SGR, wide chars),
 * generated in 4 MiB blocks with a different seed each, so lines do not repeat within a block.
 */
export function makeMixedFile(megabytes: number): { dir: string; file: string; bytes: number; dispose(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'vg-bench-shown-'));
  const file = join(dir, 'mixed.txt');
  const fd = openSync(file, 'w', 0o600);
  let bytes = 0;
  try {
    const total = Math.round(megabytes * (1 << 20));
    for (let seed = 1; bytes < total; seed++) {
      const block = Buffer.from(mixedOutput(Math.min(4 << 20, total - bytes), seed));
      writeSync(fd, block);
      bytes += block.length;
    }
  } finally {
    closeSync(fd);
  }
  return {
    dir,
    file,
    bytes,
    dispose: () => {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The program: START, wait for Enter, the file `repeat` times, END, then idle until killed. */
function program(file: string, repeat: number): string[] {
  const script =
    'printf "%s\\r\\n" "$1"; read go; i=0; while [ "$i" -lt "$3" ]; do cat "$2"; i=$((i+1)); done; printf "\\r\\n%s\\r\\n" "$4"; exec sleep 3600';
  return ['sh', '-c', script, 'sh', START, file, String(repeat), END];
}

const shellQuote = (arg: string): string => `'${arg.replace(/'/g, `'\\''`)}'`;

/** The user's terminal for one measurement: a drained PTY running the TUI side or tmux. */
export interface Outer {
  term: pty.IPty;
  exited: Promise<void>;
  /** tmux commands on this measurement's own server (tmux side only). */
  tmux?: (...args: string[]) => string;
  /** End it: SIGTERM to the TUI side, kill-server for tmux; SIGKILL after 10 s. */
  close(): Promise<void>;
}

/**
 * `argv` on an outer PTY of cols×rows: directly (the TUI side), or as the only pane of a fresh tmux
 * server (the tmux side) configured as a user would have it, with the TUI's scrollback and the RGB
 * colours the TUI passes on. `exec` makes the pane's process `argv` itself.
 */
export function openOuter(
  via: 'tui' | 'tmux',
  argv: readonly string[],
  size: { cols: number; rows: number; scrollback: number },
): Outer {
  const env = { ...process.env, TERM: 'xterm-256color' };
  const common = { name: 'xterm-256color', cols: size.cols, rows: size.rows, env };
  if (via === 'tui') {
    const term = pty.spawn(argv[0] as string, argv.slice(1), common);
    const exited = new Promise<void>((resolve) => {
      term.onExit(() => {
        resolve();
      });
    });
    return {
      term,
      exited,
      close: () =>
        closeOuter(term, exited, () => {
          term.kill('SIGTERM');
        }),
    };
  }
  const scratch = mkdtempSync(join(tmpdir(), 'vg-bench-tmux-'));
  // The server's socket lives in the scratch dir: tmux leaves its socket file behind when it exits.
  const socket = join(scratch, 'tmux.sock');
  const tmux = (...args: string[]): string =>
    execFileSync('tmux', ['-S', socket, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const conf = join(scratch, 'tmux.conf');
  writeFileSync(
    conf,
    `set -g history-limit ${size.scrollback}\nset -g default-terminal tmux-256color\nset -as terminal-features ',xterm-256color:RGB'\n`,
  );
  const term = pty.spawn(
    'tmux',
    ['-S', socket, '-f', conf, 'new-session', '-s', 'bench', `exec ${argv.map(shellQuote).join(' ')}`],
    common,
  );
  const exited = new Promise<void>((resolve) => {
    term.onExit(() => {
      resolve();
    });
  });
  return {
    term,
    exited,
    tmux,
    close: async () => {
      await closeOuter(term, exited, () => {
        try {
          tmux('kill-server');
        } catch {
          /* already gone */
        }
      });
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}

async function closeOuter(term: pty.IPty, exited: Promise<void>, stop: () => void): Promise<void> {
  stop();
  const killer = setTimeout(() => {
    term.kill('SIGKILL');
  }, 10_000);
  await exited;
  clearTimeout(killer);
}

/**
 * Waits for START on the outer terminal, presses Enter, and returns the seconds until END arrives
 * (see the top of this file). With `first`, waits for `first.ready` and types `first.input` before.
 */
export async function timeShown(
  outer: Outer,
  opts: { label: string; budgetMs: number; first?: { ready: string; input: string } },
): Promise<number> {
  const { term } = outer;
  let tail = '';
  let phase: 'ready' | 'start' | 'flood' | 'done' = opts.first ? 'ready' : 'start';
  let t0 = 0;
  return await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        new Error(
          `${opts.label}: still waiting for ${phase === 'flood' ? 'END' : phase === 'start' ? 'START' : opts.first?.ready} after ${Math.round(opts.budgetMs / 1000)} s; last output ${JSON.stringify(tail)}`,
        ),
      );
    }, opts.budgetMs);
    void outer.exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${opts.label}: the terminal ended early; last output ${JSON.stringify(tail)}`));
    });
    term.onData((d) => {
      if (phase === 'done') return;
      const seen = tail + d;
      tail = seen.slice(-64);
      if (phase === 'ready' && opts.first && seen.includes(opts.first.ready)) {
        phase = 'start';
        tail = '';
        term.write(opts.first.input);
      } else if (phase === 'start' && seen.includes(START)) {
        phase = 'flood';
        t0 = performance.now();
        term.write('\r');
      } else if (phase === 'flood' && seen.includes(END)) {
        phase = 'done';
        clearTimeout(timer);
        resolve((performance.now() - t0) / 1000);
      }
    });
  });
}

export async function shownThroughput(opts: {
  via: 'tui' | 'tmux';
  file: string;
  fileBytes: number;
  repeat?: number;
  cols?: number;
  rows?: number;
  scrollback: number;
}): Promise<ShownResult> {
  const repeat = opts.repeat ?? 1;
  const runner = [
    process.execPath,
    RUNNER,
    opts.via === 'tui' ? 'tui' : 'raw',
    '--scrollback',
    String(opts.scrollback),
    '--',
    ...program(opts.file, repeat),
  ];
  const outer = openOuter(opts.via, runner, {
    cols: opts.cols ?? 160,
    rows: opts.rows ?? 48,
    scrollback: opts.scrollback,
  });
  const bytes = opts.fileBytes * repeat;
  try {
    // ≥ 1 MB/s, or something is wrong.
    const seconds = await timeShown(outer, {
      label: `shown throughput (${opts.via})`,
      budgetMs: 60_000 + bytes / 1000,
    });
    const pid = outer.term.pid;
    // The process holding the screen: the TUI, or the tmux server plus the passthrough in its pane.
    const holder = outer.tmux
      ? outer
          .tmux('display', '-p', '#{pid} #{pane_pid}')
          .trim()
          .split(' ')
          .reduce((sum, p) => sum + rssBytes(Number(p)), 0)
      : rssBytes(pid);
    const peak = outer.tmux ? Number.NaN : peakRssBytes(pid);
    return { via: opts.via, bytes, seconds, mbPerSec: bytes / 1e6 / seconds, rssBytes: holder, peakRssBytes: peak };
  } finally {
    await outer.close();
  }
}

function peakRssBytes(pid: number): number {
  try {
    return Number(/^VmHWM:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) * 1024;
  } catch {
    return Number.NaN;
  }
}
