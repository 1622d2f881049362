/**
 * The agent's kept shells (guest/kept-shells.ts) on this host's real PTYs, with a stand-in for the SSH
 * channel (only write/close/exit/end and its events are used): a shell detached by its channel closing
 * keeps running, keeps only the last 1 MiB of its output and replays it to the next attach by id; one that
 * ends while detached is gone; a channel closed while its connection lives hangs the shell up; an attach
 * while another channel is joined closes that one; the request
 * variables are taken out of the environment and a malformed id is no request.
 */
import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pty from 'node-pty';
import type { IPty } from 'node-pty';
import type { ServerChannel } from 'ssh2';
import { afterAll, describe, expect, it } from 'vitest';
import { KeptShells, takeKeptShellRequest } from '../../../src/guest/kept-shells.js';
import { KEPT_SHELL_BUFFER_BYTES, KEPT_SHELL_ENV } from '../../../src/shared/kept-shell.js';

const ID = 'c'.repeat(32);
const dir = mkdtempSync(join(tmpdir(), 'vg-kept-shells-'));
const started: IPty[] = [];
afterAll(() => {
  for (const p of started) {
    try {
      p.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

class StandInChannel extends EventEmitter {
  readonly got: Buffer[] = [];
  exitedWith: unknown[] | undefined;
  closed = false;
  write(d: Buffer): boolean {
    this.got.push(Buffer.from(d));
    return true;
  }
  exit(...args: unknown[]): void {
    this.exitedWith = args;
  }
  end(): void {
    this.close();
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close');
  }
  text(): string {
    return Buffer.concat(this.got).toString('latin1');
  }
}
const asChannel = (c: StandInChannel): ServerChannel => c as unknown as ServerChannel;
/** The stand-in's SSH connection: its channels close after it ended (ssh2's order). */
const connectionGone = (): boolean => true;
const connectionAlive = (): boolean => false;
const spawn = (script: string): IPty => {
  const p = pty.spawn('/bin/sh', ['-c', script], { cols: 80, rows: 24, encoding: null });
  started.push(p);
  return p;
};
const until = async (check: () => boolean, what: string): Promise<void> => {
  for (let i = 0; i < 400; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
};

describe('KeptShells', () => {
  it('a detached shell runs on; the next attach gets the last 1 MiB of what it printed meanwhile, then live I/O', async () => {
    const logs: string[] = [];
    const kept = new KeptShells((m) => logs.push(m));
    const done = join(dir, 'done');
    const proc = spawn(
      `read go; head -c 3000000 /dev/zero | tr '\\000' a; echo; echo END-OF-OUTPUT; touch ${done}; read x; echo "got $x"; exec sleep 100`,
    );
    const first = new StandInChannel();
    kept.adopt(ID, asChannel(first), proc, connectionGone);
    first.emit('data', Buffer.from('go\n'));
    await until(() => first.text().includes('go'), 'the echo of the input');
    first.close();
    await until(() => existsSync(done), 'the output while detached');
    await new Promise((r) => setTimeout(r, 500)); // the PTY's last bytes reach the agent
    expect(kept.has(ID)).toBe(true);

    const second = new StandInChannel();
    expect(kept.reattach(ID, asChannel(second), connectionGone)).toBeDefined();
    const replay = Buffer.concat(second.got);
    expect(replay.length).toBeLessThanOrEqual(KEPT_SHELL_BUFFER_BYTES);
    expect(replay.length).toBeGreaterThan(KEPT_SHELL_BUFFER_BYTES - 64 * 1024);
    expect(replay.toString('latin1')).toMatch(/a+\r\nEND-OF-OUTPUT\r\n$/);
    second.emit('data', Buffer.from('live\n'));
    await until(() => second.text().includes('got live'), 'live I/O after the re-attach');
    expect(logs.some((l) => l.includes('detached'))).toBe(true);

    // An attach while `second` is joined takes over and closes it.
    const third = new StandInChannel();
    kept.reattach(ID, asChannel(third), connectionGone);
    expect(second.closed).toBe(true);
    expect(kept.has(ID)).toBe(true);
    proc.kill('SIGTERM');
    await until(() => third.exitedWith !== undefined, 'the exit status on the joined channel');
    expect(kept.has(ID)).toBe(false);
  });

  it('a shell that ends while detached is gone: re-attaching it is refused', async () => {
    const kept = new KeptShells(() => undefined);
    const proc = spawn('read x; exit 3');
    const ch = new StandInChannel();
    kept.adopt(ID, asChannel(ch), proc, connectionGone);
    ch.close();
    proc.write('bye\n');
    await until(() => !kept.has(ID), 'the shell to end');
    expect(kept.reattach(ID, asChannel(new StandInChannel()), connectionGone)).toBeUndefined();
  });

  it('a channel the host closes while its connection lives hangs the shell up, as a plain PTY shell', async () => {
    const kept = new KeptShells(() => undefined);
    const proc = spawn('trap "exit 7" HUP; while :; do sleep 0.05; done');
    let exited: number | undefined;
    proc.onExit(({ exitCode }) => (exited = exitCode));
    const ch = new StandInChannel();
    kept.adopt(ID, asChannel(ch), proc, connectionAlive);
    await new Promise((r) => setTimeout(r, 200));
    ch.close();
    await until(() => exited !== undefined, 'the hang-up');
    expect(exited).toBe(7);
    expect(kept.has(ID)).toBe(false);
  });

  it('takes the request variables out of the environment; a malformed id is no request', () => {
    const env = { A: '1', [KEPT_SHELL_ENV.id]: ID, [KEPT_SHELL_ENV.reattach]: '1' };
    expect(takeKeptShellRequest(env)).toEqual({ id: ID, reattach: true });
    expect(env).toEqual({ A: '1' });
    expect(takeKeptShellRequest({ [KEPT_SHELL_ENV.id]: ID })).toEqual({ id: ID, reattach: false });
    const bad = { [KEPT_SHELL_ENV.id]: '../../etc' };
    expect(takeKeptShellRequest(bad)).toBeUndefined();
    expect(bad).toEqual({});
    expect(takeKeptShellRequest({ A: '1' })).toBeUndefined();
  });
});
