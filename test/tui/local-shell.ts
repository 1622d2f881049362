/**
 * Runs Ghostly Term around a local bash (node-pty) instead of a VM: the tmux test drives this,
 * and it is handy by hand (`npx vite-node test/tui/local-shell.ts`) to try the TUI in a terminal.
 *
 * Env: TUI_STATUS=top|bottom, TUI_PREFIX (default C-]), TUI_CLIPBOARD, TUI_PIDFILE (write our pid),
 * TUI_PROCESSES (what runningProcessCount reports).
 */
import { writeFileSync } from 'node:fs';
import pty from 'node-pty';
import { runTui } from '../../src/host/tui/index.js';
import type { ShellStream, TuiBackend } from '../../src/host/tui/index.js';

function localShell(size: { cols: number; rows: number }): ShellStream {
  const p = pty.spawn('bash', ['--norc', '--noprofile'], {
    cols: size.cols,
    rows: size.rows,
    cwd: process.cwd(),
    // Bytes, not strings: the TUI decodes (a UTF-8 character split across reads must survive).
    encoding: null,
    env: { ...process.env, TERM: 'xterm-256color', PS1: '$ ', HISTFILE: '/dev/null' },
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    p.onExit(({ exitCode, signal }) => { resolve({ code: signal ? null : exitCode, signal: signal ? `SIG${signal}` : null }); });
  });
  return {
    write: (data) => { p.write(typeof data === 'string' ? data : Buffer.from(data)); },
    onData: (cb) => p.onData((d) => { cb(typeof d === 'string' ? Buffer.from(d) : d as Uint8Array); }),
    resize: (cols, rows) => { p.resize(cols, rows); },
    close: () => { p.kill('SIGHUP'); },
    pause: () => { p.pause(); },
    resume: () => { p.resume(); },
    exited,
  };
}

const startedAt = Date.now();
const backend: TuiBackend = {
  openShell: (size) => Promise.resolve(localShell(size)),
  statusInfo: () => ({
    name: 'local-test', backend: 'qemu', accel: 'tcg', vcpus: 1, memoryMiB: 512, readyMs: 1234, startedAt,
    connection: 'connected', guestCpuPercent: 3, guestMemUsedBytes: 64 << 20, guestMemTotalBytes: 512 << 20,
  }),
  runningProcessCount: () => Promise.resolve(Number(process.env['TUI_PROCESSES'] ?? 0)),
};

if (process.env['TUI_PIDFILE']) writeFileSync(process.env['TUI_PIDFILE'], String(process.pid));
const status = process.env['TUI_STATUS'] === 'top' ? 'top' : 'bottom';
const clipboard = process.env['TUI_CLIPBOARD'];
const result = await runTui(backend, { input: process.stdin, output: process.stdout }, {
  statusPosition: status,
  prefixKey: process.env['TUI_PREFIX'] ?? 'C-]',
  clipboard: clipboard === 'allow' || clipboard === 'deny' ? clipboard : 'ask',
  scrollback: 5000,
});
process.stdout.write(`TUI-EXIT code=${result.exitCode} reason=${result.reason}\n`);
if (result.error) console.error(result.error);
process.exit(result.exitCode);
