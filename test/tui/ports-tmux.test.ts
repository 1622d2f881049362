/**
 * `run -p` with the full-screen UI, against a real VM, tmux as the user's terminal: the status line shows
 * the published port; a connection while nothing listens in the guest is closed at once and its line goes
 * to the VM's ports.log, not onto the screen; a server started in the guest's shell is reached from the
 * host; and the listener is gone when the shell exits.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ghostPaths } from '../../src/host/store/paths.js';
import { freePort, roundTrip, until } from '../helpers/net.js';
import { tmuxPane } from '../helpers/tmux-pane.js';

const root = join(import.meta.dirname, '..', '..');
const socket = `vg-tui-ports-${process.pid}`;
const S = 'ports';
const pane = tmuxPane(socket, S);
const { tmux, waitFor, type } = pane;
let hostPort = 0;

beforeAll(async () => {
  hostPort = await freePort();
  const env = ['XDG_RUNTIME_DIR', 'XDG_CONFIG_HOME', 'XDG_STATE_HOME', 'XDG_CACHE_HOME', 'HOME', 'PATH']
    .filter((k) => process.env[k])
    .map((k) => `${k}=${process.env[k]}`);
  const cmd = `cd ${root} && env ${env.join(' ')} TERM=tmux-256color VIRTUALGHOST_ACCEL=tcg node bin/virtualghost.js run -p ${hostPort}:7300; echo "SHELL-EXIT=$?"; sleep 600`;
  tmux('new-session', '-d', '-s', S, '-x', '160', '-y', '30', cmd);
});
afterAll(() => {
  try {
    tmux('kill-server');
  } catch {
    /* already gone */
  }
});

const bindable = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });

describe('run -p with the TUI', () => {
  it('shows the published port on the status line', async () => {
    const screen = await waitFor(
      (s) => s.includes('root@ghost') && s.includes('qemu/tcg'),
      'the guest prompt and the status line',
      120_000,
    );
    expect(screen).toContain(`ports ${hostPort}->7300`);
  });

  it('nothing listening in the guest: the connection is closed at once, and the line goes to ports.log, not the screen', async () => {
    const t0 = Date.now();
    const got = await roundTrip({ port: hostPort }, Buffer.from('hi\n'), true);
    expect(got.length).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5_000);
    const vms = ghostPaths().vmsDir;
    const dir = readdirSync(vms).find((n) => n.startsWith('run-'));
    expect(dir).toBeDefined();
    const log = join(vms, dir ?? '?', 'ports.log');
    expect(
      await until(() => {
        try {
          return readFileSync(log, 'utf8').includes(`published port 127.0.0.1:${hostPort}->7300: connection from`);
        } catch {
          return false;
        }
      }, 5_000),
    ).toBe(true);
    expect(pane.capture()).not.toContain('published port');
  });

  it('reaches a server started in the guest shell; the listener is gone once the shell exits', async () => {
    type('socat -t 30 TCP-LISTEN:7300,bind=127.0.0.1,reuseaddr,fork EXEC:cat &');
    const answered = await until(
      async () =>
        (await roundTrip({ port: hostPort }, Buffer.from('ping\n'), true).catch(() => Buffer.alloc(0))).toString() ===
        'ping\n',
      60_000,
      500,
    );
    expect(answered).toBe(true);
    type('kill %1; exit');
    await waitFor((s) => s.includes('SHELL-EXIT='), 'the run to end', 60_000);
    expect(await bindable(hostPort)).toBe(true);
  });
});
