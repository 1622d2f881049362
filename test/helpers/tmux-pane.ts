/**
 * tmux as the user's terminal: a private server (-L socket), one pane we read with capture-pane and type
 * into with send-keys. `target` may change (a test opening a second terminal switches to it).
 */
import { execFileSync } from 'node:child_process';

export interface TmuxPane {
  tmux(...args: string[]): string;
  capture(): string;
  /** Polls the pane until `check` holds; the error shows the last screen. */
  waitFor(check: (screen: string) => boolean, what: string, timeoutMs?: number): Promise<string>;
  /** Types `text` literally, then Enter. */
  type(text: string): void;
  target: string;
}

export function tmuxPane(socket: string, target: string): TmuxPane {
  const pane: TmuxPane = {
    target,
    tmux: (...args) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' }),
    capture: () => pane.tmux('capture-pane', '-p', '-t', pane.target),
    async waitFor(check, what, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      let screen = '';
      while (Date.now() < deadline) {
        screen = pane.capture();
        if (check(screen)) return screen;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`timed out waiting for ${what}; screen was:\n${screen}`);
    },
    type(text) {
      pane.tmux('send-keys', '-t', pane.target, '-l', text);
      pane.tmux('send-keys', '-t', pane.target, 'Enter');
    },
  };
  return pane;
}
