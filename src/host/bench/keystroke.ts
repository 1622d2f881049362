/**
 * Keystroke → screen latency as a user feels it: `virtualghost run` (TUI or --raw) on a real PTY made by
 * node-pty; after the guest prompt appears we type one character at a time (alternating a letter and a
 * backspace, so the line never grows) and time until the next output arrives on the user's side.
 */
import { fileURLToPath } from 'node:url';
import pty from 'node-pty';

const BIN = fileURLToPath(new URL('../../../bin/virtualghost.js', import.meta.url));

export async function keystrokeLatencyMs(mode: 'tui' | 'raw', samples: number, env: NodeJS.ProcessEnv = process.env): Promise<number[]> {
  const term = pty.spawn(process.execPath, [BIN, 'run', ...(mode === 'raw' ? ['--raw'] : [])], {
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
      const deadline = setTimeout(() => reject(new Error(`keystroke bench: timed out; last output: ${JSON.stringify(seen.slice(-200))}`)), ms);
      const check = (): void => {
        if (pred()) {
          clearTimeout(deadline);
          resolve();
        } else waiter = check;
      };
      check();
    });
  try {
    await waitFor(() => seen.includes('root@ghost'), 120_000);
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
    term.write('\x15exit\r');
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
