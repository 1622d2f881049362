/**
 * `proxy NAME` when the relay gives up before the guest says anything (every pool stream busy, the VM
 * stopping): OpenSSH alone would only print "Connection closed", so the proxy says why on stderr.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ghostPaths } from '../../../src/host/store/paths.js';
import { identify, OWNER_FILE, writeOwner } from '../../../src/host/store/process-identity.js';
import { runCli } from '../../helpers/cli.js';

const dir = join(ghostPaths().vmsDir, 'proxyclosed');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('proxy NAME', () => {
  it('explains a connection the relay closed before the guest answered, and stays quiet when it did answer', async () => {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // A live owner (this test process): a per-VM dir whose owner is gone is a dead VM, refused with 68.
    writeOwner(join(dir, OWNER_FILE), {
      host: identify(process.pid)!,
      backend: 'qemu',
      createdAt: new Date().toISOString(),
    });
    let answer = false;
    const relay = createServer((s) => {
      if (answer) s.end('SSH-2.0-stand-in\r\n');
      else s.destroy();
    });
    await new Promise<void>((r) => relay.listen(join(dir, 'ssh.sock'), () => r()));
    try {
      const closed = await runCli(['proxy', 'proxyclosed'], { stdin: '' });
      expect(closed.code).toBe(0);
      expect(closed.stderr).toContain("VM proxyclosed's relay closed the connection before the guest answered");
      answer = true;
      const spoke = await runCli(['proxy', 'proxyclosed'], { stdin: '' });
      expect(spoke.stdout.toString()).toBe('SSH-2.0-stand-in\r\n');
      expect(spoke.stderr).toBe('');
    } finally {
      await new Promise<void>((r) => relay.close(() => r()));
    }
  });
});
