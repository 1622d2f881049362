/**
 * Published ports (`-p`) on real VMs, carried over SSH direct-tcpip by the process that holds the VM:
 * a throw-away `exec -p` serving a guest socat to the host (1 MB byte-exact both ways), shown by `ps`,
 * `ps --json` and `port NAME`; a published port with nothing listening in the guest closes the host
 * connection at once and says so; a host port in use fails with 65 before any VM starts (exec and a
 * named run); a named VM's ports, added and removed at runtime with `port NAME add|rm`; and no listener
 * is left once the VM ends.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ghostPaths } from '../../src/host/store/paths.js';
import { runCli } from '../helpers/cli.js';
import { spawnCli, type CliChild } from '../helpers/cli-child.js';
import { startNamedVm, type NamedVm } from '../helpers/named-vm.js';
import { accepts, freePort, roundTrip, until } from '../helpers/net.js';
import { said } from '../helpers/run-tool.js';

const MB = 1024 * 1024;
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
// socat's -t: how long it waits for the other way after an EOF (default 0.5 s: short under TCG).
const ECHO = (port: number): string[] => [
  'socat',
  '-t',
  '60',
  `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`,
  'EXEC:cat',
];

const children = new Set<CliChild>();
const named: NamedVm[] = [];
afterAll(async () => {
  for (const c of children) {
    c.child.kill('SIGTERM');
    await c.done;
  }
  for (const vm of named) await vm.stop().catch(() => undefined);
});

/** Until the guest server answers through the published port (before that, connections are closed at once). */
async function echoes(port: number): Promise<boolean> {
  return await until(
    async () =>
      (await roundTrip({ port }, Buffer.from('ping\n'), true).catch(() => Buffer.alloc(0))).toString() === 'ping\n',
    60_000,
    500,
  );
}

interface PsJsonRow {
  name: string;
  kind: string;
  state: string;
  ports: Array<{ hostIp: string; hostPort: number; guestPort: number }>;
}
async function psRows(): Promise<PsJsonRow[]> {
  const r = await runCli(['ps', '--json']);
  expect(r.code, said(r)).toBe(0);
  return JSON.parse(r.stdout.toString()) as PsJsonRow[];
}

/** Whether a host port can be bound again (no listener of ours is left on it). */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s: Server = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** Holds a host port, so that publishing it must fail. */
async function occupy(): Promise<{ port: number; release: () => Promise<void> }> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  return { port, release: () => new Promise((r) => s.close(() => r())) };
}

describe('exec -p (throw-away VM, held by the exec process)', () => {
  it('serves a guest socat on the host: 1 MB byte-exact both ways; ps, ps --json and port show it; nothing listening closes at once; no listener after', async () => {
    const hostPort = await freePort();
    const deadPort = await freePort();
    const exec = spawnCli(['exec', '-p', `${hostPort}:7100`, '-p', `127.0.0.1:${deadPort}:7999`, '--', ...ECHO(7100)]);
    children.add(exec);
    expect(await echoes(hostPort), exec.stderr()).toBe(true);

    const data = randomBytes(MB + 7);
    const back = await roundTrip({ port: hostPort }, data);
    expect(back.length).toBe(data.length);
    expect(sha256(back)).toBe(sha256(data));

    const row = (await psRows()).find((r) => r.ports?.some((p) => p.hostPort === hostPort));
    expect(row, 'ps --json lists the VM with its ports').toBeDefined();
    expect(row?.kind).toBe('throw-away');
    expect(row?.ports).toEqual([
      { hostIp: '127.0.0.1', hostPort, guestPort: 7100 },
      { hostIp: '127.0.0.1', hostPort: deadPort, guestPort: 7999 },
    ]);
    const table = await runCli(['ps']);
    expect(table.stdout.toString()).toMatch(
      new RegExp(
        `^${row?.name}\\s.*\\s127\\.0\\.0\\.1:${hostPort}->7100,127\\.0\\.0\\.1:${deadPort}->7999(\\s|$)`,
        'm',
      ), // MOUNTS follows
    );
    const listed = await runCli(['port', row?.name ?? '?']);
    expect(listed.stdout.toString(), said(listed)).toBe(`127.0.0.1:${hostPort}->7100\n127.0.0.1:${deadPort}->7999\n`);

    // Nothing listens on guest port 7999: the host connection is closed at once, and the command says why.
    const t0 = Date.now();
    const nothing = await roundTrip({ port: deadPort }, Buffer.from('hello?\n'), true);
    expect(nothing.length).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(
      await until(
        () => exec.stderr().includes(`published port 127.0.0.1:${deadPort}->7999: connection from 127.0.0.1:`),
        5_000,
      ),
      exec.stderr(),
    ).toBe(true);
    expect(exec.stderr()).toMatch(/is a server listening on 127\.0\.0\.1:7999 in the guest\?/);
    // And the working port still works after that.
    expect(sha256(await roundTrip({ port: hostPort }, data.subarray(0, 1000)))).toBe(sha256(data.subarray(0, 1000)));

    exec.child.kill('SIGTERM');
    const done = await exec.done;
    children.delete(exec);
    expect(done.code, said(done)).toBe(143);
    expect(await bindable(hostPort), 'the host listener is gone with the VM').toBe(true);
    expect(await bindable(deadPort)).toBe(true);
  });

  it('a host port in use: exit 65 naming the port, before any VM starts (no per-VM dir, fast)', async () => {
    const held = await occupy();
    const before = existsSync(ghostPaths().vmsDir) ? readdirSync(ghostPaths().vmsDir) : [];
    const t0 = Date.now();
    const r = await runCli(['exec', '-p', `${held.port}:80`, '--', 'true']);
    const ms = Date.now() - t0;
    await held.release();
    expect(r.code, said(r)).toBe(65);
    expect(r.stderr).toContain(`host port 127.0.0.1:${held.port} is in use`);
    expect(ms).toBeLessThan(5_000);
    expect(readdirSync(ghostPaths().vmsDir).filter((n) => !before.includes(n))).toEqual([]);
  });

  it('a bad SPEC is refused with 65, naming the value', async () => {
    for (const [spec, says] of [
      ['80', 'expected [HOST_IP:]HOST_PORT:GUEST_PORT'],
      ['8080:0', 'GUEST_PORT "0" is not a port number'],
      ['localhost:8080:80', '"localhost" is not an IPv4 address'],
    ] as const) {
      const r = await runCli(['exec', '-p', spec, '--', 'true']);
      expect(r.code, said(r)).toBe(65);
      expect(r.stderr).toContain(`-p ${JSON.stringify(spec)}`);
      expect(r.stderr).toContain(says);
    }
  });

  it("exec NAME takes no -p (a running VM's ports change with `port NAME add`): 64, before anything connects", async () => {
    const r = await runCli(['exec', 'no-such-vm', '-p', '8080:80', '--', 'true']);
    expect(r.code, said(r)).toBe(64);
    expect(r.stderr).toContain('virtualghost port no-such-vm add SPEC');
  });
});

describe('run NAME -p (named VM, held by its supervisor)', () => {
  it('a host port in use: exit 65 before the supervisor boots anything; the name stays free', async () => {
    const held = await occupy();
    const name = `pc-${randomBytes(2).toString('hex')}`;
    const r = await runCli(['run', name, '--detach', '-p', `${held.port}:80`]);
    await held.release();
    expect(r.code, said(r)).toBe(65);
    expect(r.stderr).toContain(`host port 127.0.0.1:${held.port} is in use`);
    expect(existsSync(join(ghostPaths().vmsDir, name))).toBe(false);
    expect((await runCli(['ps', '-q'])).stdout.toString()).not.toContain(name);
  });

  it('publishes at start; port add and port rm change it at runtime; ps shows it; stop leaves no listener', async () => {
    const first = await freePort();
    const name = `pp-${randomBytes(2).toString('hex')}`;
    const vm = await startNamedVm(name, ['-p', `${first}:7200`]);
    named.push(vm);
    const server = spawnCli(['exec', name, '--', ...ECHO(7200)]);
    children.add(server);
    expect(await echoes(first), server.stderr()).toBe(true);
    const data = randomBytes(MB);
    expect(sha256(await roundTrip({ port: first }, data))).toBe(sha256(data));

    const second = await freePort();
    const add = await runCli(['port', name, 'add', `${second}:7200`]);
    expect(add.code, said(add)).toBe(0);
    expect(sha256(await roundTrip({ port: second }, data))).toBe(sha256(data));
    const listed = await runCli(['port', name, '--json']);
    expect(JSON.parse(listed.stdout.toString())).toEqual([
      { hostIp: '127.0.0.1', hostPort: first, guestPort: 7200 },
      { hostIp: '127.0.0.1', hostPort: second, guestPort: 7200 },
    ]);
    expect((await psRows()).find((r) => r.name === name)?.ports.map((p) => p.hostPort)).toEqual([first, second]);

    // Adding a port that is in use, or removing one not published: 65, and nothing changes.
    const held = await occupy();
    const clash = await runCli(['port', name, 'add', `${held.port}:7200`]);
    await held.release();
    expect(clash.code, said(clash)).toBe(65);
    expect(clash.stderr).toContain(`host port 127.0.0.1:${held.port} is in use`);
    const notThere = await runCli(['port', name, 'rm', String(held.port)]);
    expect(notThere.code, said(notThere)).toBe(65);

    const rm = await runCli(['port', name, 'rm', String(first)]);
    expect(rm.code, said(rm)).toBe(0);
    expect(await accepts({ port: first }), 'the removed port is no longer listening').toBe(false);
    expect(sha256(await roundTrip({ port: second }, data.subarray(0, 4096)))).toBe(sha256(data.subarray(0, 4096)));
    expect((await runCli(['port', name])).stdout.toString()).toBe(`127.0.0.1:${second}->7200\n`);
    expect((await psRows()).find((r) => r.name === name)?.ports).toEqual([
      { hostIp: '127.0.0.1', hostPort: second, guestPort: 7200 },
    ]);

    server.child.kill('SIGTERM');
    await server.done;
    children.delete(server);
    await vm.stop();
    expect(await bindable(second), "stop closed the supervisor's listener").toBe(true);
  });
});
