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
const START = '#qzVGXstartXqz#';
const END = '#qzVGXendXqz#';

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
  return { dir, file, bytes, dispose: () => { rmSync(dir, { recursive: true, force: true }); } };
}

/** The program: START, wait for Enter, the file `repeat` times, END, then idle until killed. */
function program(file: string, repeat: number): string[] {
  const script = 'printf "%s\\r\\n" "$1"; read go; i=0; while [ "$i" -lt "$3" ]; do cat "$2"; i=$((i+1)); done; printf "\\r\\n%s\\r\\n" "$4"; exec sleep 3600';
  return ['sh', '-c', script, 'sh', START, file, String(repeat), END];
}

const shellQuote = (arg: string): string => `'${arg.replace(/'/g, `'\\''`)}'`;

export async function shownThroughput(opts: { via: 'tui' | 'tmux'; file: string; fileBytes: number; repeat?: number; cols?: number; rows?: number; scrollback: number }): Promise<ShownResult> {
  const repeat = opts.repeat ?? 1;
  const cols = opts.cols ?? 160;
  const rows = opts.rows ?? 48;
  const runner = [process.execPath, RUNNER, opts.via === 'tui' ? 'tui' : 'raw', '--scrollback', String(opts.scrollback), '--', ...program(opts.file, repeat)];
  const scratch = mkdtempSync(join(tmpdir(), 'vg-bench-tmux-'));
  const socket = `vg-bench-${process.pid}-${Date.now()}`;
  const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  let term: pty.IPty;
  if (opts.via === 'tui') {
    term = pty.spawn(runner[0] as string, runner.slice(1), { name: 'xterm-256color', cols, rows, env: { ...process.env, TERM: 'xterm-256color' } });
  } else {
    // tmux as a user would have it, with the TUI's scrollback and the RGB colours the TUI passes on;
    // `exec` makes the pane's process the passthrough itself (its RSS is counted with tmux's).
    const conf = join(scratch, 'tmux.conf');
    writeFileSync(conf, `set -g history-limit ${opts.scrollback}\nset -g default-terminal tmux-256color\nset -as terminal-features ',xterm-256color:RGB'\n`);
    term = pty.spawn('tmux', ['-L', socket, '-f', conf, 'new-session', '-s', 'bench', `exec ${runner.map(shellQuote).join(' ')}`], {
      name: 'xterm-256color', cols, rows, env: { ...process.env, TERM: 'xterm-256color' },
    });
  }
  const exited = new Promise<void>((resolve) => { term.onExit(() => { resolve(); }); });
  let tail = '';
  let phase: 'start' | 'flood' | 'done' = 'start';
  let t0 = 0;
  let t1 = 0;
  const budgetMs = 60_000 + (opts.fileBytes * repeat) / 1e6 * 1000; // ≥ 1 MB/s, or something is wrong
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`shown throughput (${opts.via}): no ${phase === 'start' ? 'START' : 'END'} marker within ${Math.round(budgetMs / 1000)} s; last output ${JSON.stringify(tail)}`)); }, budgetMs);
      void exited.then(() => { clearTimeout(timer); reject(new Error(`shown throughput (${opts.via}): the terminal ended early; last output ${JSON.stringify(tail)}`)); });
      term.onData((d) => {
        if (phase === 'done') return;
        const seen = tail + d;
        tail = seen.slice(-64);
        if (phase === 'start' && seen.includes(START)) {
          phase = 'flood';
          t0 = performance.now();
          term.write('\r');
        } else if (phase === 'flood' && seen.includes(END)) {
          t1 = performance.now();
          phase = 'done';
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const holder = opts.via === 'tui' ? rssBytes(term.pid) : tmux('display', '-p', '#{pid} #{pane_pid}').trim().split(' ').reduce((sum, pid) => sum + rssBytes(Number(pid)), 0);
    const bytes = opts.fileBytes * repeat;
    const seconds = (t1 - t0) / 1000;
    const peak = opts.via === 'tui' ? peakRssBytes(term.pid) : Number.NaN;
    return { via: opts.via, bytes, seconds, mbPerSec: bytes / 1e6 / seconds, rssBytes: holder, peakRssBytes: peak };
  } finally {
    if (opts.via === 'tmux') {
      try { tmux('kill-server'); } catch { /* already gone */ }
    } else term.kill('SIGTERM');
    const killer = setTimeout(() => { term.kill('SIGKILL'); }, 10_000);
    await exited;
    clearTimeout(killer);
    rmSync(scratch, { recursive: true, force: true });
  }
}

function peakRssBytes(pid: number): number {
  try {
    return Number(/^VmHWM:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) * 1024;
  } catch {
    return Number.NaN;
  }
}
