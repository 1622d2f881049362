/**
 * Per-client backpressure on a real named VM: two clients attached to the same persistent shell, one of
 * them a real `virtualghost attach NAME` that is SIGSTOPped (it stops reading), the other the client the
 * TUI uses. A command with megabytes of output reaches the reading client in full — the stopped one does
 * not hold the shared shell back — and the stopped one, once continued, is told it fell too far behind
 * and exits 76; the shell and the VM carry on. A client that is alone is never dropped for being slow:
 * the shell just waits for it (plain backpressure).
 */
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRemoteShell, request } from '../../src/host/supervisor/client.js';
import type { StatusReply } from '../../src/host/supervisor/protocol.js';
import { ghostPaths } from '../../src/host/store/paths.js';
import { BIN } from '../helpers/cli.js';
import { startNamedVm, type NamedVm } from '../helpers/named-vm.js';

const NAME = `bp-${randomBytes(2).toString('hex')}`;
let vm: NamedVm | undefined;
beforeAll(async () => {
  vm = await startNamedVm(NAME);
});
afterAll(async () => {
  await vm?.stop();
});

/** Resolves once `seen()` includes `text`; rejects after `ms`. */
async function until(seen: () => string, text: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!seen().includes(text)) {
    if (Date.now() > deadline)
      throw new Error(`no ${JSON.stringify(text)} within ${ms} ms; last output: ${JSON.stringify(seen().slice(-300))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('a slow attached client', () => {
  it('does not stall the shell for the others, and is dropped with a message when it falls too far behind', async () => {
    const socket = join(ghostPaths().vmsDir, NAME, 'supervisor.sock');
    // The slow client: a real `attach NAME` (no terminal: the first shell's bytes straight through).
    const slow = spawn(process.execPath, [BIN, 'attach', NAME], { stdio: ['pipe', 'pipe', 'pipe'] });
    let slowOut = '';
    let slowErr = '';
    slow.stdout.on('data', (d: Buffer) => (slowOut = (slowOut + d.toString()).slice(-4096)));
    slow.stderr.on('data', (d: Buffer) => (slowErr += d.toString()));
    const slowDone = new Promise<number | null>((r) => slow.on('close', (code) => r(code)));
    const fast = await (async () => {
      slow.stdin.write('echo slow-$((2+3))\n');
      await until(() => slowOut, 'slow-5', 30_000);
      const status = await request<StatusReply & Record<string, unknown>>(socket, { op: 'status' });
      expect(status.tabs).toHaveLength(1);
      return await openRemoteShell(socket, { tab: status.tabs[0]!.id, cols: 80, rows: 24 });
    })();
    let fastBytes = 0;
    let fastTail = '';
    fast.onData((d) => {
      fastBytes += d.length;
      fastTail = (fastTail + Buffer.from(d).toString('latin1')).slice(-512);
    });
    try {
      slow.kill('SIGSTOP');
      // ~3 MB through the shared shell's PTY: far more than a client may leave unread (1 MiB).
      fast.write('yes 0123456789012345678901234567890123456789 | head -n 75000; echo END-$((6*7))-MARK\n');
      await until(() => fastTail, 'END-42-MARK', 150_000);
      expect(fastBytes).toBeGreaterThan(3_000_000);

      // The stopped client was dropped (only the fast one is attached) …
      const deadline = Date.now() + 30_000;
      let clients = -1;
      while (Date.now() < deadline && clients !== 1) {
        clients = (await request<StatusReply & Record<string, unknown>>(socket, { op: 'status' })).clients;
        if (clients !== 1) await new Promise((r) => setTimeout(r, 250));
      }
      expect(clients).toBe(1);
      // … and once it runs again, it reads what its socket held, then why it was dropped.
      slow.kill('SIGCONT');
      expect(await slowDone).toBe(76);
      expect(slowErr).toMatch(
        new RegExp(
          `you fell too far behind VM ${NAME}'s output and were disconnected \\(more than 1 MiB of shell \\d+'s output waited for it for 5 s while another client kept up\\); re-attach: \`virtualghost attach ${NAME}\``,
        ),
      );

      // The shell carries on for the client that kept up.
      fast.write('echo after-$((7*8))\n');
      await until(() => fastTail, 'after-56', 30_000);
    } finally {
      fast.close();
      if (slow.exitCode === null && slow.signalCode === null) {
        slow.kill('SIGCONT');
        slow.kill('SIGKILL');
      }
    }
  });

  it('alone, it is not dropped: the shell waits for it, and it gets every byte once it reads again', async () => {
    const slow = spawn(process.execPath, [BIN, 'attach', NAME], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let bytes = 0;
    slow.stdout.on('data', (d: Buffer) => {
      bytes += d.length;
      out = (out + d.toString()).slice(-4096);
    });
    try {
      slow.stdin.write('echo lone-$((3+4))\n');
      await until(() => out, 'lone-7', 30_000);
      const before = bytes;
      slow.stdin.write('yes 0123456789012345678901234567890123456789 | head -n 75000; echo END-$((6*8))-LONE\n');
      slow.kill('SIGSTOP');
      await new Promise((r) => setTimeout(r, 12_000)); // well past the grace time, with output waiting
      const socket = join(ghostPaths().vmsDir, NAME, 'supervisor.sock');
      expect((await request<StatusReply & Record<string, unknown>>(socket, { op: 'status' })).clients).toBe(1);
      slow.kill('SIGCONT');
      await until(() => out, 'END-48-LONE', 150_000);
      expect(bytes - before).toBeGreaterThan(3_000_000);
      expect(slow.exitCode).toBeNull();
    } finally {
      slow.kill('SIGCONT');
      slow.kill('SIGKILL');
    }
  });
});
