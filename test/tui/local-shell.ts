/**
 * Runs Ghostly Term around a local bash (node-pty) instead of a VM: the tmux test drives this,
 * and it is handy by hand (`npx vite-node test/tui/local-shell.ts`) to try the TUI in a terminal.
 *
 * Env: TUI_STATUS=top|bottom, TUI_PREFIX (default C-]), TUI_CLIPBOARD, TUI_PIDFILE (write our pid),
 * TUI_PROCESSES (what runningProcessCount reports).
 */
import { writeFileSync } from 'node:fs';
import { localProgram } from '../../src/host/bench/local-program.js';
import { runTui } from '../../src/host/tui/index.js';
import type { ShellStream, TuiBackend } from '../../src/host/tui/index.js';

function localShell(size: { cols: number; rows: number }): ShellStream {
  return localProgram(['bash', '--norc', '--noprofile'], size, {
    cwd: process.cwd(),
    env: { PS1: '$ ', HISTFILE: '/dev/null' },
  });
}

const startedAt = Date.now();
const backend: TuiBackend = {
  openShell: (size) => Promise.resolve(localShell(size)),
  statusInfo: () => ({
    name: 'local-test',
    backend: 'qemu',
    accel: 'tcg',
    vcpus: 1,
    memoryMiB: 512,
    readyMs: 1234,
    startedAt,
    connection: 'connected',
    guestCpuPercent: 3,
    guestMemUsedBytes: 64 << 20,
    guestMemTotalBytes: 512 << 20,
  }),
  runningProcessCount: () => Promise.resolve(Number(process.env['TUI_PROCESSES'] ?? 0)),
};

if (process.env['TUI_PIDFILE']) writeFileSync(process.env['TUI_PIDFILE'], String(process.pid));
const status = process.env['TUI_STATUS'] === 'top' ? 'top' : 'bottom';
const clipboard = process.env['TUI_CLIPBOARD'];
const result = await runTui(
  backend,
  { input: process.stdin, output: process.stdout },
  {
    statusPosition: status,
    prefixKey: process.env['TUI_PREFIX'] ?? 'C-]',
    clipboard: clipboard === 'allow' || clipboard === 'deny' ? clipboard : 'ask',
    scrollback: 5000,
  },
);
process.stdout.write(`TUI-EXIT code=${result.exitCode} reason=${result.reason}\n`);
if (result.error) console.error(result.error);
process.exit(result.exitCode);
