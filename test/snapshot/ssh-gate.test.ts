/**
 * A clone of a snapshot never answers SSH before its own session offer is applied: its template's agent
 * closed the gate when the template's session ended, so an SSH stream that reaches the clone first waits
 * (no server bytes at all), and then meets the host key the offer brought, not the template's.
 */
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { runGuestCommand } from '../../src/host/cli/exec.js';
import { HostControl } from '../../src/host/control/host-control.js';
import { connectSsh } from '../../src/host/ssh/client.js';
import { generateClientKey, generateGuestHostKey } from '../../src/host/ssh/keys.js';
import { createInstanceDir, type OwnedInstanceDir } from '../../src/host/store/instance-dir.js';
import { ghostPaths } from '../../src/host/store/paths.js';
import type { QemuDriver } from '../../src/host/vm/qemu/driver.js';
import { QemuFactory } from '../../src/host/vm/qemu/factory.js';
import { findSnapshot } from '../../src/host/vm/qemu/snapshot.js';
import { bootVm } from '../helpers/session.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** How long a held stream must stay silent after the clone's agent has shown it is running. */
const HOLD_MS = 1500;

describe('SSH gate of a restored clone', () => {
  it('holds SSH until the offer is applied, then serves the offered host key', async () => {
    // Makes sure there is a snapshot (and learns which), the way any run does.
    const first = await bootVm({ memory: '384M' });
    cleanups.push(() => first.close());
    const key = first.restoredFrom;
    expect(key).toBeDefined();
    const snap = findSnapshot(first.image, key!);
    expect(snap).toBeDefined();
    const spec = { ...first.spec, name: 'gate-clone', rootfsPath: snap!.disk };
    await first.close();

    const dir: OwnedInstanceDir = createInstanceDir(ghostPaths().vmsDir, 'gate-clone');
    cleanups.push(() => dir.remove());
    const driver: QemuDriver = new QemuFactory().create(spec, dir, 'tcg', {
      restore: { statePath: snap!.state, memoryPath: snap!.memory },
      backingFormat: 'qcow2',
    });
    cleanups.push(() => driver.stop());
    const signal = AbortSignal.timeout(60_000);
    await driver.start(signal);

    const clientKey = generateClientKey();
    const hostKey = generateGuestHostKey();
    const sock = await driver.channel('ssh').connect({ signal, timeoutMs: 30_000 });
    let serverBytes = 0;
    sock.on('data', (d: Buffer) => (serverBytes += d.length));
    const marks: string[] = [];
    let settled = false;
    const ssh = connectSsh({
      sock,
      privateKey: clientKey.privateKey,
      pinnedHostKey: hostKey.publicOpenSsh,
      timeoutMs: 60_000,
      onMark: (m) => marks.push(m),
    });
    void ssh.then(
      () => (settled = true),
      () => (settled = true),
    );

    // "Held" only means something once the clone's agent is known to be running and answering: its
    // hello on the control stream proves that (a slow clone that has not run its agent yet would look
    // held with no gate at all). Then it gets a while longer to answer the SSH stream it already has.
    const control = new HostControl(await driver.channel('control').connect({ signal, timeoutMs: 30_000 }));
    cleanups.push(() => control.close());
    const deadline = Date.now() + 30_000;
    while (!control.hello && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(control.hello, "the clone's agent said hello on the control stream").toBeDefined();
    await new Promise((r) => setTimeout(r, HOLD_MS));
    // The agent is up, and has not sent one byte of SSH (not even its version line) to the held stream.
    expect(serverBytes).toBe(0);
    expect(settled).toBe(false);
    expect(marks).toEqual([]);

    const { ready } = await control.handshake({
      clientKey: clientKey.publicOpenSsh,
      hostKey,
      signal,
      timeoutMs: 30_000,
    });
    expect(ready.hostKey).toBe(hostKey.publicOpenSsh);
    const client = await ssh;
    cleanups.push(() => void client.end());
    expect(marks).toContain('ssh key exchange done');
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    expect(await runGuestCommand(client, 'echo gate-open', { stdout: out, stderr: new PassThrough() })).toBe(0);
    expect(text.trim()).toBe('gate-open');
  });
});
