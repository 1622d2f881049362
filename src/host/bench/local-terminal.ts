/**
 * The terminal layer without a VM, for the throughput and memory benches: a local program on a real
 * PTY (node-pty) plays the guest shell, and this process shows it either through Ghostly Term or as
 * `run --raw` does (bytes straight through to stdout). The guest's SSH path is ~3 MB/s under TCG,
 * so with a VM both sides would measure the VM instead of the terminal layer.
 *
 * Usage (the benches spawn it on a PTY they drain):
 *   node dist/host/bench/local-terminal.js tui|raw [--scrollback N] -- PROGRAM [ARGS…]
 * It ends when PROGRAM ends, or on SIGTERM/SIGHUP.
 */
import { DEFAULT_TUI_OPTIONS, runTui, type TuiBackend } from '../tui/index.js';
import { localProgram } from './local-program.js';

function localBackend(command: readonly string[]): TuiBackend {
  const startedAt = Date.now();
  return {
    openShell: (size) => Promise.resolve(localProgram(command, size)),
    statusInfo: () => ({
      name: 'bench-local',
      backend: 'local',
      accel: 'none',
      vcpus: 0,
      memoryMiB: 0,
      startedAt,
      connection: 'connected',
    }),
  };
}

/** `run --raw` around a local program: the same piping as cli/raw-terminal.ts, with a PTY for the channel. */
async function raw(command: readonly string[]): Promise<number> {
  const out = process.stdout;
  const shell = localProgram(command, { cols: out.columns || 80, rows: out.rows || 24 });
  if (process.stdin.isTTY) process.stdin.setRawMode(true);
  process.stdin.on('data', (d: Buffer) => {
    shell.write(d);
  });
  out.on('resize', () => {
    shell.resize(out.columns || 80, out.rows || 24);
  });
  // Flow control as a stream pipe gives `run --raw`: stop reading the program while stdout is full.
  shell.onData((d) => {
    if (!out.write(d)) {
      shell.pause?.();
      out.once('drain', () => shell.resume?.());
    }
  });
  const { code } = await shell.exited;
  if (process.stdin.isTTY) process.stdin.setRawMode(false);
  return code ?? 1;
}

async function main(argv: string[]): Promise<number> {
  const dash = argv.indexOf('--');
  const mode = argv[0];
  const command = dash >= 0 ? argv.slice(dash + 1) : [];
  const at = argv.indexOf('--scrollback');
  const scrollback = at >= 0 && at < dash ? Number(argv[at + 1]) : DEFAULT_TUI_OPTIONS.scrollback;
  if ((mode !== 'tui' && mode !== 'raw') || command.length === 0 || !Number.isInteger(scrollback)) {
    process.stderr.write('usage: local-terminal.js tui|raw [--scrollback N] -- PROGRAM [ARGS…]\n');
    return 64;
  }
  if (mode === 'raw') return await raw(command);
  const result = await runTui(
    localBackend(command),
    { input: process.stdin, output: process.stdout },
    { ...DEFAULT_TUI_OPTIONS, scrollback },
  );
  return result.exitCode;
}

process.exitCode = await main(process.argv.slice(2));
// node-pty's read handle may keep the loop alive after the program's exit has been seen.
process.exit();
