/**
 * Keystroke → screen latency as a user feels it: a terminal program on a real PTY made by node-pty;
 * once it is ready we type one character at a time (the letters cycle, with Ctrl-U now and then so
 * the line never grows) and time until the character arrives on the user's side.
 *
 * Two setups: clients of one real VM (the TUI, --raw, OpenSSH), where the emulated guest's echo
 * dominates; and the terminal layer alone (bench/local-terminal.js, TUI or raw passthrough around a
 * local PTY whose kernel echoes at once), which isolates what the TUI itself adds.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pty from 'node-pty';

const BIN = fileURLToPath(new URL('../../../bin/virtualghost.js', import.meta.url));
const LOCAL = fileURLToPath(new URL('./local-terminal.js', import.meta.url));
const READY = '#qzVGXreadyXqz#';

/**
 * Three clients of one running named VM, typed into alternately so that host load hits them alike:
 * `attach NAME` (the TUI), `attach NAME --raw`, and OpenSSH (`ssh -tt`) through `virtualghost proxy`
 * with the config `ssh-config NAME` prints. Each gets its own guest bash, which exits afterwards.
 */
export async function sameVmKeystrokeLatencyMs(
  samples: number,
  rounds = 2,
): Promise<{ tui: number[]; raw: number[]; openssh: number[] }> {
  const name = `bench-keys-${process.pid}`;
  const cli = (args: string[]): string =>
    execFileSync(process.execPath, [BIN, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  cli(['run', name, '--detach']);
  const dir = mkdtempSync(join(tmpdir(), 'vg-bench-ssh-'));
  try {
    const config = join(dir, 'ssh_config');
    writeFileSync(config, cli(['ssh-config', name]));
    const out = { tui: [] as number[], raw: [] as number[], openssh: [] as number[] };
    const per = Math.ceil(samples / rounds);
    for (let r = 0; r < rounds; r++) {
      out.tui.push(...(await typeAndTime(process.execPath, [BIN, 'attach', name], 'root@ghost', per, process.env)));
      out.raw.push(
        ...(await typeAndTime(process.execPath, [BIN, 'attach', name, '--raw'], 'root@ghost', per, process.env)),
      );
      out.openssh.push(
        ...(await typeAndTime('ssh', ['-F', config, '-tt', `virtualghost-${name}`], 'root@ghost', per, process.env)),
      );
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    cli(['stop', name]);
  }
}

/**
 * The terminal layer alone: the TUI or the raw passthrough around a local `cat` on a cooked PTY,
 * whose echo the kernel produces at once (so nearly all of the time is ours, not the "guest's").
 */
export async function localKeystrokeLatencyMs(mode: 'tui' | 'raw', samples: number): Promise<number[]> {
  const program = ['sh', '-c', 'printf "%s\\r\\n" "$1"; exec cat', 'sh', READY];
  return await typeAndTime(process.execPath, [LOCAL, mode, '--', ...program], READY, samples, process.env);
}

async function typeAndTime(
  file: string,
  args: string[],
  ready: string,
  samples: number,
  env: NodeJS.ProcessEnv,
): Promise<number[]> {
  const term = pty.spawn(file, args, {
    name: 'xterm-256color',
    cols: 120,
    rows: 40,
    env: { ...env, TERM: 'xterm-256color' } as Record<string, string>,
  });
  let waiter: (() => void) | undefined;
  let seen = '';
  /** Output since the last key was sent. */
  let recent = '';
  term.onData((d) => {
    seen = (seen + d).slice(-4096);
    recent += d;
    const w = waiter;
    waiter = undefined;
    w?.();
  });
  const waitFor = (pred: () => boolean, ms: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const deadline = setTimeout(
        () => reject(new Error(`keystroke bench: timed out; last output: ${JSON.stringify(seen.slice(-200))}`)),
        ms,
      );
      const check = (): void => {
        if (pred()) {
          clearTimeout(deadline);
          resolve();
        } else waiter = check;
      };
      check();
    });
  try {
    await waitFor(() => seen.includes(ready), 120_000);
    await new Promise((r) => setTimeout(r, 1500)); // let the status line and prompt settle
    const out: number[] = [];
    const keys = 'XYZWVKJ';
    for (let i = 0; i < samples; i++) {
      if (i > 0 && i % 80 === 0) {
        term.write('\x15'); // Ctrl-U: keep the line short
        await new Promise((r) => setTimeout(r, 200));
      }
      const key = keys[i % keys.length] as string;
      recent = '';
      const t0 = performance.now();
      const echoed = new Promise<void>((resolve) => {
        const check = (): void => {
          if (recent.includes(key)) resolve();
          else waiter = check;
        };
        waiter = check;
      });
      term.write(key);
      await echoed;
      out.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 30)); // let any trailing frame through before the next key
    }
    return out;
  } finally {
    term.write('\x15exit\r\x04'); // bash exits on `exit`, cat on end of file
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        term.kill('SIGTERM');
        resolve();
      }, 15_000);
      term.onExit(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
