/** Two VMs at once do not interfere: separate disks, separate host keys, separate boots; both close cleanly. */
import { existsSync } from 'node:fs';
import type ssh2 from 'ssh2';
import { afterAll, describe, expect, it } from 'vitest';
import type { VmSession } from '../../src/host/session.js';
import { generateClientKey } from '../../src/host/ssh/keys.js';
import { bootVm } from '../helpers/session.js';
import { sshExec } from '../helpers/ssh.js';

let sessions: VmSession[] = [];
afterAll(async () => {
  await Promise.all(sessions.map((s) => s.close()));
});

describe('two VMs at once', () => {
  it('boot concurrently, keep their files and keys to themselves, and both close cleanly', async () => {
    const t0 = Date.now();
    const booted = await Promise.allSettled([bootVm(), bootVm()]);
    sessions = booted.flatMap((b) => (b.status === 'fulfilled' ? [b.value] : []));
    for (const b of booted) if (b.status === 'rejected') throw b.reason;
    console.log(`two VMs ready in ${Date.now() - t0} ms`);
    const [a, b] = sessions as [VmSession, VmSession];
    expect(a.name).not.toBe(b.name);
    expect(a.dir.path).not.toBe(b.dir.path);
    expect(a.driver.pid).not.toBe(b.driver.pid);
    const ssh = (s: VmSession): ssh2.Client => s.ssh as ssh2.Client;

    // Each writes its own marker (content made in the guest), concurrently.
    await Promise.all(
      sessions.map((s, i) =>
        sshExec(
          ssh(s),
          `head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \\n' > /root/id && echo "vm${i} $(cat /root/id)" > /root/marker && touch /root/only-vm${i}`,
        ),
      ),
    );
    const views = await Promise.all(
      sessions.map((s) => sshExec(ssh(s), 'cat /root/marker; ls /root | grep only- ; cat /root/id')),
    );
    const parsed = views.map((v) => v.stdout.toString().trim().split('\n'));
    for (const [i, lines] of parsed.entries()) {
      const [marker, only, bootId] = lines;
      expect(marker).toBe(`vm${i} ${bootId}`);
      expect(only).toBe(`only-vm${i}`);
      expect(lines).toHaveLength(3); // the other VM's file is not here
    }
    // Clones of one warm snapshot share a kernel boot id, but never CRNG output or host keys.
    expect(parsed[0]?.[2]).toMatch(/^[0-9a-f]{32}$/);
    expect(parsed[0]?.[2]).not.toBe(parsed[1]?.[2]);
    expect(a.hostKey).not.toBe(b.hostKey);

    // Host keys: each agent generated its own (the image is shared, the key must not be).
    const hostKeys = await Promise.all(
      sessions.map(
        async (s) =>
          (
            await s.control!.handshake({
              clientKey: generateClientKey().publicOpenSsh,
              signal: AbortSignal.timeout(20_000),
              timeoutMs: 20_000,
            })
          ).ready,
      ),
    );
    expect(hostKeys[0]?.hostKey).toMatch(/^ssh-ed25519 /);
    expect(hostKeys[0]?.hostKey).not.toBe(hostKeys[1]?.hostKey);
    expect(hostKeys[0]?.fingerprint).not.toBe(hostKeys[1]?.fingerprint);

    // Closing one leaves the other working.
    await a.close();
    expect(existsSync(a.dir.path)).toBe(false);
    expect(await a.driver.exited).toEqual({ code: 0, signal: null });
    const still = await sshExec(ssh(b), 'cat /root/marker');
    expect(still.stdout.toString()).toMatch(/^vm1 /);
    await b.close();
    expect(existsSync(b.dir.path)).toBe(false);
    expect(await b.driver.exited).toEqual({ code: 0, signal: null });
    expect(sessions.map((s) => s.phase)).toEqual(['closed', 'closed']);
  });
});
