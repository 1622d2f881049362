/**
 * Clones of one snapshot must not share the agent's in-process OpenSSL DRBG: its state is part of the
 * snapshot, and the SSH key exchange draws from it. Each clone's server KEXINIT cookie and ephemeral
 * ECDH key (read off the wire, see helpers/ssh-kex.ts) must differ from its sibling's.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { VmSession } from '../../src/host/session.js';
import { bootVm } from '../helpers/session.js';
import { serverKexRandomness, type ServerKexRandomness } from '../helpers/ssh-kex.js';

const open: VmSession[] = [];
afterAll(async () => {
  await Promise.all(open.map((s) => s.close()));
});

/** A second SSH connection to the clone (the session's own one is closed first: one host client at a time). */
async function secondKex(s: VmSession): Promise<ServerKexRandomness> {
  s.ssh?.end();
  const sock = await s.driver.channel('ssh').connect({ signal: AbortSignal.timeout(60_000), timeoutMs: 30_000 });
  return await serverKexRandomness(sock);
}

describe('clones of one snapshot and the agent DRBG', () => {
  it('two clones draw different SSH key-exchange randomness (cookie and ephemeral key)', async () => {
    const first = await bootVm({ memory: '448M' }); // creates the snapshot if there is none
    open.push(first);
    await first.close();

    const [a, b] = await Promise.all([bootVm({ memory: '448M' }), bootVm({ memory: '448M' })]);
    open.push(a, b);
    expect(a.restoredFrom).toBeDefined();
    expect(b.restoredFrom).toBe(a.restoredFrom);
    const [ka, kb] = await Promise.all([secondKex(a), secondKex(b)]);
    expect(ka.cookie).toMatch(/^[0-9a-f]{32}$/);
    expect(ka.ephemeral).toMatch(/^[0-9a-f]{64}$/); // curve25519: 32 bytes
    expect(ka.cookie).not.toBe(kb.cookie);
    expect(ka.ephemeral).not.toBe(kb.ephemeral);
  });
});
