/**
 * The guest half of the Firecracker transport, in a real TCG guest: ghostly-agent is reachable over
 * AF_VSOCK on the documented ports. QEMU here has no host↔guest vsock (/dev/vhost-vsock is missing), so
 * the guest talks to itself through vsock_loopback (CID 1), which exercises the same listener.
 */
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGuestCommand } from '../../src/host/cli/exec.js';
import type { VmSession } from '../../src/host/session.js';
import { VSOCK_PORTS } from '../../src/shared/ports.js';
import { bootVm } from '../helpers/session.js';

let session: VmSession;
beforeAll(async () => {
  session = await bootVm();
});
afterAll(async () => {
  await session?.close();
});

async function guest(cmd: string): Promise<{ status: number; out: string }> {
  const stdout = new PassThrough();
  let out = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  const status = await runGuestCommand(session.ssh!, cmd, { stdout, stderr: new PassThrough() });
  return { status, out };
}

describe('guest vsock listener (vsock_loopback)', () => {
  it('answers the control protocol on the control vsock port', async () => {
    const { out } = await guest(`timeout 10 socat -T 5 -u VSOCK-CONNECT:1:${VSOCK_PORTS.control} - | head -1`);
    const hello = JSON.parse(out.trim()) as { type: string; protocol: number };
    expect(hello.type).toBe('agent-hello');
    expect(hello.protocol).toBeGreaterThan(0);
  });

  it('serves SSH on the ssh vsock port', async () => {
    const { out } = await guest(`timeout 10 socat -T 5 -u VSOCK-CONNECT:1:${VSOCK_PORTS.ssh} - | head -c 24`);
    expect(out).toMatch(/^SSH-2\.0-ghostly-agent/);
  });

  it('refuses a port nobody listens on', async () => {
    const { status } = await guest('timeout 10 socat -u VSOCK-CONNECT:1:4242 - </dev/null');
    expect(status).not.toBe(0);
  });
});
