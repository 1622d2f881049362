/**
 * The agent's `attach` (guest/control-server.ts): a standby pool's claimer takes over the session the
 * clone's keeper offered. The agent answers only when a session offered since it started is in force,
 * and then with that session's host key and its stats, applying nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { serveControl } from '../../../src/guest/control-server.js';
import type { HostKey } from '../../../src/guest/keys.js';
import { encodeFrame, LineSplitter, parseAgentFrame, type AgentFrame } from '../../../src/shared/control.js';

const KEY: HostKey = {
  privatePem: '-----BEGIN OPENSSH PRIVATE KEY-----\nunused\n-----END OPENSSH PRIVATE KEY-----\n',
  publicOpenSsh: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBq3bP8mXh0O1cVY2yjwq0rRZ3WcFQ9fB7lqT1vK3xJm',
  fingerprint: 'SHA256:test',
};

let dir = '';
let server: Server | undefined;
afterEach(() => {
  server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** An agent control server whose deps report `attachable`, and a host connection to it with its frames. */
async function agent(
  attachable: HostKey | undefined,
): Promise<{ host: Socket; frames: AgentFrame[]; applied: number[] }> {
  dir = mkdtempSync(join(tmpdir(), 'vg-attach-'));
  const path = join(dir, 'control.sock');
  const applied: number[] = [];
  server = createServer((s) =>
    serveControl(s, {
      starts: 1,
      applySession: async () => {
        applied.push(Date.now());
        return KEY;
      },
      powerOff: () => undefined,
      log: () => undefined,
      templateSessionEnded: () => undefined,
      attachableSession: () => attachable,
    }),
  );
  await new Promise<void>((r) => server!.listen(path, r));
  const host = createConnection(path);
  const frames: AgentFrame[] = [];
  const splitter = new LineSplitter();
  host.setEncoding('utf8');
  host.on('data', (t: string) => frames.push(...splitter.push(t).map(parseAgentFrame)));
  await new Promise<void>((r) => host.once('connect', r));
  return { host, frames, applied };
}

describe('control attach', () => {
  it('with no offered session in force it is refused, and nothing is applied', async () => {
    const { host, frames, applied } = await agent(undefined);
    host.write(encodeFrame({ type: 'attach' }));
    await expect.poll(() => frames.map((f) => f.type)).toEqual(['agent-hello', 'error']);
    expect(frames[1]).toMatchObject({ message: expect.stringContaining('no session to attach to') });
    expect(applied).toEqual([]);
    host.destroy();
  });

  it("answers with the session's host key and then stats, applying nothing", async () => {
    const { host, frames, applied } = await agent(KEY);
    host.write(encodeFrame({ type: 'attach' }));
    await expect
      .poll(() => frames.find((f) => f.type === 'ready'))
      .toEqual({
        type: 'ready',
        hostKey: KEY.publicOpenSsh,
        fingerprint: KEY.fingerprint,
      });
    await expect.poll(() => frames.some((f) => f.type === 'stats'), { timeout: 3_000 }).toBe(true);
    expect(applied).toEqual([]);
    host.destroy();
  });
});
