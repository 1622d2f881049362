/**
 * The guest agent's trust and liveness, on one VM: only the key the host injected over the control
 * stream logs in, only the host key the agent reported is accepted, the agent streams stats, and when
 * the agent dies the guest restarts it and the host is told.
 *
 * Order matters (each test leaves the VM in the state the next expects): stats → keys → agent restart.
 */
import ssh2 from 'ssh2';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stats } from '../../src/shared/control.js';
import type { AgentHello } from '../../src/shared/control.js';
import type { VmSession } from '../../src/host/session.js';
import { connectSsh } from '../../src/host/ssh/client.js';
import { SshHostKeyMismatchError } from '../../src/host/ssh/errors.js';
import { generateClientKey } from '../../src/host/ssh/keys.js';
import { sshStreamToAgent } from '../helpers/guest-stream.js';
import { bootVm } from '../helpers/session.js';
import { sshExec } from '../helpers/ssh.js';

const MEMORY_MIB = 384;
let session: VmSession;

beforeAll(async () => {
  session = await bootVm({ memory: `${MEMORY_MIB}M` });
});
afterAll(async () => {
  await session?.close();
});

/** A fresh byte stream to the agent's SSH listener (the session's own connection must be closed first:
 *  a virtio-serial port serves one host connection at a time). */
const sshStream = (): Promise<Duplex> => sshStreamToAgent(session);

/** Ends an SSH client and waits until its stream is closed. */
const endClient = (c: ssh2.Client): Promise<void> =>
  new Promise((resolve) => {
    c.once('close', () => resolve());
    c.end();
  });

/** ssh2 Client over `sock`: resolves 'ready' or rejects with the client's error. No host-key check here. */
function rawLogin(sock: Duplex, privateKey: string, hostKey?: Buffer): Promise<ssh2.Client> {
  return new Promise((resolve, reject) => {
    const c = new ssh2.Client();
    c.once('ready', () => resolve(c));
    c.once('error', (err) => {
      c.end();
      sock.destroy(); // a login that never started must still give the port back for the tests after it
      reject(err);
    });
    c.connect({
      sock: sock as never,
      username: 'root',
      privateKey,
      readyTimeout: 30_000,
      hostVerifier: (key: Buffer) => hostKey === undefined || key.equals(hostKey),
    });
  });
}

const waitFor = <T>(emitter: { once(ev: string, fn: (v: T) => void): unknown }, ev: string, ms: number): Promise<T> =>
  new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${ev} within ${ms} ms`)), ms);
    emitter.once(ev, (v: T) => {
      clearTimeout(t);
      resolve(v);
    });
  });

describe('control stream', () => {
  it('streams stats with the configured memory, a rising uptime and a sane CPU figure', async () => {
    const control = session.control!;
    const first = await waitFor<Stats>(control, 'stats', 3000);
    const second = await waitFor<Stats>(control, 'stats', 3000);
    // The kernel keeps some memory for itself: MemTotal is a little under what QEMU was given.
    const total = first.memTotalBytes / (1024 * 1024);
    expect(total).toBeLessThanOrEqual(MEMORY_MIB);
    expect(total).toBeGreaterThan(MEMORY_MIB * 0.8);
    expect(first.memUsedBytes).toBeGreaterThan(0);
    expect(first.memUsedBytes).toBeLessThan(first.memTotalBytes);
    expect(second.uptimeSec).toBeGreaterThan(first.uptimeSec);
    expect(first.cpuPercent).toBeGreaterThanOrEqual(0);
    expect(first.cpuPercent).toBeLessThanOrEqual(100);
  });
});

describe('SSH keys', () => {
  let pinnedHostKey: string;
  let hostKeyBlob: Buffer;

  it('the session works, then its connection is given up for the tests below', async () => {
    const r = await sshExec(session.ssh!, 'echo $((40+2))');
    expect(r.stdout.toString()).toBe('42\n');
    // Learn the pinned host key the way the session did: a new session offer on the control stream.
    const key = generateClientKey();
    const { ready } = await session.control!.handshake({
      clientKey: key.publicOpenSsh,
      signal: AbortSignal.timeout(20_000),
      timeoutMs: 20_000,
    });
    pinnedHostKey = ready.hostKey;
    hostKeyBlob = Buffer.from(pinnedHostKey.split(' ')[1] ?? '', 'base64');
    await endClient(session.ssh!);
    // The key offered last is the one in force now: it logs in over a fresh stream (the control test for the refusals below).
    const c = await connectSsh({
      sock: await sshStream(),
      privateKey: key.privateKey,
      pinnedHostKey,
      timeoutMs: 30_000,
    });
    expect((await sshExec(c, 'echo ok')).stdout.toString()).toBe('ok\n');
    await endClient(c);
  });

  it('refuses a client key other than the injected one', async () => {
    const stranger = generateClientKey();
    await expect(rawLogin(await sshStream(), stranger.privateKey, hostKeyBlob)).rejects.toThrow(
      /authentication methods failed/i,
    );
  });

  it('refuses a guest whose host key is not the pinned one', async () => {
    const key = generateClientKey();
    await session.control!.handshake({
      clientKey: key.publicOpenSsh,
      signal: AbortSignal.timeout(20_000),
      timeoutMs: 20_000,
    });
    const other = generateClientKey().publicOpenSsh; // some other ed25519 key
    const err = await connectSsh({
      sock: await sshStream(),
      privateKey: key.privateKey,
      pinnedHostKey: other,
      timeoutMs: 30_000,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SshHostKeyMismatchError);
    expect((err as Error).message).toMatch(/host key/);
    // Same client key, right pin: accepted, so the refusal above was the host key's doing.
    const ok = await connectSsh({
      sock: await sshStream(),
      privateKey: key.privateKey,
      pinnedHostKey,
      timeoutMs: 30_000,
    });
    await endClient(ok);
  });
});

describe('agent supervision', () => {
  it('a killed agent is restarted and the host is told on the control stream', async () => {
    const key = generateClientKey();
    const control = session.control!;
    const pinned = (
      await control.handshake({ clientKey: key.publicOpenSsh, signal: AbortSignal.timeout(20_000), timeoutMs: 20_000 })
    ).ready.hostKey;
    const before = control.hello!;
    const c = await connectSsh({
      sock: await sshStream(),
      privateKey: key.privateKey,
      pinnedHostKey: pinned,
      timeoutMs: 30_000,
    });
    const exited = waitFor<void>(control, 'agent-exited', 30_000);
    const restarted = waitFor<AgentHello>(control, 'agent-restarted', 60_000);
    // Kill the agent from inside; this very exec's channel dies with it.
    void sshExec(c, 'pkill -KILL -f ghostly-agent.cjs').catch(() => undefined);
    await exited;
    const hello = await restarted;
    expect(hello.starts).toBeGreaterThanOrEqual(2);
    expect(hello.starts).toBeGreaterThan(before.starts);
    expect(hello.pid).not.toBe(before.pid);
    expect(hello.bootId).toBe(before.bootId); // the agent restarted, not the VM
    await endClient(c);
    // The restarted agent takes a new session and serves SSH again.
    const key2 = generateClientKey();
    const { ready } = await control.handshake({
      clientKey: key2.publicOpenSsh,
      signal: AbortSignal.timeout(20_000),
      timeoutMs: 20_000,
    });
    const again = await connectSsh({
      sock: await sshStream(),
      privateKey: key2.privateKey,
      pinnedHostKey: ready.hostKey,
      timeoutMs: 30_000,
    });
    const r = await sshExec(again, 'pgrep -fc ghostly-agent.cjs');
    expect(r.stdout.toString().trim()).toBe('1');
    await endClient(again);
  });
});
