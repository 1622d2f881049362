/**
 * A host that reconnects to a guest stream must reach a fresh agent connection, and quickly: after a
 * snapshot restore, or whenever a client drops its SSH connection and opens a new one.
 *
 * The guest bridge may miss a quick disconnect + reconnect (it sees the hangup only if it polls in
 * between), so every virtio-serial connection starts with a hello exchange (shared/ports.ts,
 * guest-image/ghostly-helper.c): without it, 2 of 12 to 12 of 20 immediate reconnects got no banner.
 */
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VmSession } from '../../src/host/session.js';
import { endAndWait, firstChunk } from '../helpers/guest-stream.js';
import { bootVm } from '../helpers/session.js';

let session: VmSession;
beforeAll(async () => {
  session = await bootVm();
  await new Promise<void>((resolve) => {
    session.ssh!.once('close', () => resolve());
    session.ssh!.end();
  });
  await new Promise((r) => setTimeout(r, 1000));
});
afterAll(async () => {
  await session?.close();
});

describe('guest stream reconnects', () => {
  it("every new host connection to the ssh stream gets the agent's banner first, even right after the last one closed", async () => {
    const results: string[] = [];
    for (let i = 0; i < 24; i++) {
      const sock = (await session.driver
        .channel('ssh')
        .connect({ signal: AbortSignal.timeout(30_000), timeoutMs: 30_000 })) as Socket;
      const first = await firstChunk(sock, 2000);
      results.push(first === undefined ? 'nothing within 2 s' : JSON.stringify(first.toString('latin1').slice(0, 24)));
      await endAndWait(sock);
    }
    const bad = results.filter((r) => !r.startsWith('"SSH-2.0-ghostly-agent'));
    expect(bad, `connections without a fresh banner:\n${results.join('\n')}`).toEqual([]);
  });
});
