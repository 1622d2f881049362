/**
 * The guest network on real QEMU VMs, through the real CLI. Test traffic stays on this machine: a server
 * on the host's 127.0.0.1, and the guest's own addresses.
 * - `none` (the default): the guest has only `lo`.
 * - `--net`: eth0 has its address, route and resolver before the command runs; the host's loopback is
 *   not reachable — host.virtualghost.internal fails at once, and a guest (root) that removes its own
 *   unreachable route still reaches nothing on the host's 127.0.0.1 (enforced by the host's NAT).
 * - `--net-host`: the same server is reached as host.virtualghost.internal, 1 MiB byte-exact both ways,
 *   cold and from a warm snapshot's clone.
 * - The NAT (passt) never outlives its VM: SIGKILL of `exec` (two clones at once, each with a NAT of its
 *   own) and of a named VM's supervisor.
 * - What cannot work says so before anything boots (exit 69): no passt on PATH; Firecracker.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readOwner } from '../../src/host/store/process-identity.js';
import { execShell, runCli } from '../helpers/cli.js';
import { eventually, processAlive, spawnCli, vmDirOwnedBy, type CliChild } from '../helpers/cli-child.js';
import { join } from 'node:path';
import { ghostPaths } from '../../src/host/store/paths.js';

const said = (r: { code: number | null; stdout: Buffer; stderr: string }): string =>
  `exit ${r.code}\nstdout: ${r.stdout.toString()}\nstderr: ${r.stderr}`;
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/**
 * An echo server on the host's 127.0.0.1, echoing as bytes arrive; records the sha256 of all it got once
 * the connection ends. (Not "reply after the client half-closes": passt 2023-03, Debian 12's, stalls
 * sending to a guest that has shut down its own sending side — see README, Guest network.)
 */
interface HostServer {
  port: number;
  connections: number;
  received: string[];
  close(): Promise<void>;
}

function hostServer(): Promise<HostServer> {
  const state = { connections: 0, received: [] as string[] };
  const sockets = new Set<Socket>();
  const server: Server = createServer((sock) => {
    state.connections++;
    sockets.add(sock);
    const chunks: Buffer[] = [];
    sock.on('data', (d: Buffer) => chunks.push(d));
    sock.pipe(sock);
    sock.on('error', () => undefined);
    sock.on('close', () => {
      state.received.push(sha(Buffer.concat(chunks)));
      sockets.delete(sock);
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      resolve({
        port: typeof addr === 'object' && addr ? addr.port : 0,
        get connections() {
          return state.connections;
        },
        received: state.received,
        close: () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      });
    }),
  );
}

let server: HostServer;
beforeAll(async () => {
  server = await hostServer();
});
afterAll(async () => {
  await runCli(['stop', '--all']);
  await runCli(['clean']);
  await server.close();
});

/** Milliseconds a guest command takes, printed as `LABEL rc=N ms=M`. */
const timed = (label: string, cmd: string): string =>
  `s=$(date +%s%N); ${cmd}; rc=$?; echo "${label} rc=$rc ms=$(( ($(date +%s%N) - s) / 1000000 ))"`;
const timing = (out: string, label: string): { rc: number; ms: number } => {
  const m = new RegExp(`${label} rc=(\\d+) ms=(\\d+)`).exec(out);
  if (!m) throw new Error(`no ${label} timing in: ${out}`);
  return { rc: Number(m[1]), ms: Number(m[2]) };
};

/** 1 MiB from the guest to the host server and back at once; prints the sha256 of what was sent and received. */
const echoMiB = (port: number): string =>
  [
    'head -c 1048576 /dev/urandom > /tmp/up',
    `exec 3<>/dev/tcp/host.virtualghost.internal/${port}`,
    'cat /tmp/up >&3 &',
    'timeout 60 head -c 1048576 <&3 > /tmp/down; echo "echo rc=$?"',
    'exec 3<&-',
    'wait',
    'sha256sum /tmp/up /tmp/down',
  ].join('\n');
const checkEcho = async (out: string, before: number): Promise<void> => {
  expect(out).toContain('echo rc=0');
  const sums = [...out.matchAll(/^([0-9a-f]{64}) {2}\/tmp\/(up|down)$/gm)].map((m) => m[1]);
  expect(sums).toHaveLength(2);
  expect(sums[0]).toBe(sums[1]);
  // The host really got those bytes (not, say, a guest-local listener).
  expect(
    await eventually(() => server.received.slice(before).includes(sums[0] as string), 5000),
    'the host server got the same 1 MiB',
  ).toBe(true);
};

describe('guest network', () => {
  it('none (the default): the guest has only lo, and its kernel was told of no network', async () => {
    const r = await execShell('ls /sys/class/net; echo ---; cat /proc/cmdline');
    expect(r.code, said(r)).toBe(0);
    const [ifaces, cmdline] = r.stdout.toString().split('---\n');
    expect(ifaces?.trim().split(/\s+/)).toEqual(['lo']);
    expect(cmdline).not.toMatch(/ghostly\.net/);
  });

  it("--net, cold: address, route and resolver are set before the command runs; the host's 127.0.0.1 is out of reach, fast", async () => {
    const before = server.connections;
    const script = [
      'ip -o -4 addr show dev eth0',
      'ip route',
      'cat /etc/resolv.conf',
      'getent hosts host.virtualghost.internal',
      timed('named', `timeout 10 bash -c 'echo x > /dev/tcp/host.virtualghost.internal/${server.port}'`),
      // Root in the guest undoes its own guard: the host's NAT still maps nothing to the host's loopback.
      'ip route del unreachable 10.0.2.2',
      timed('unguarded', `timeout 3 bash -c 'echo x > /dev/tcp/10.0.2.2/${server.port}'`),
    ].join('\n');
    const r = await runCli(['exec', '--accel', 'tcg', '--cold', '--net', '--', 'bash', '-c', script]);
    const out = r.stdout.toString();
    expect(r.code, said(r)).toBe(0);
    expect(out).toMatch(/eth0\s+inet 10\.0\.2\.15\/24 /);
    expect(out).toMatch(/^default via 10\.0\.2\.2 dev eth0/m);
    expect(out).toMatch(/^nameserver 10\.0\.2\.3$/m);
    expect(out).toMatch(/^10\.0\.2\.2\s+host\.virtualghost\.internal$/m);
    const named = timing(out, 'named');
    expect(named.rc, out + r.stderr).not.toBe(0);
    expect(named.ms, 'a refused host connection fails fast, it does not hang').toBeLessThan(2000);
    expect(r.stderr).toMatch(/No route to host|Connection refused/);
    expect(timing(out, 'unguarded').rc).not.toBe(0);
    expect(server.connections - before, 'connections that reached the host server').toBe(0);
  });

  it('--net-host, cold: the host server is reached as host.virtualghost.internal, 1 MiB byte-exact both ways', async () => {
    const before = server.received.length;
    const r = await runCli([
      'exec',
      '--accel',
      'tcg',
      '--cold',
      '--net-host',
      '--',
      'bash',
      '-c',
      `ip route; ${echoMiB(server.port)}`,
    ]);
    expect(r.code, said(r)).toBe(0);
    expect(r.stdout.toString()).not.toMatch(/unreachable/);
    await checkEcho(r.stdout.toString(), before);
  });

  it("--net-host, warm: a restored clone's network works (a template with the NIC, a fresh NAT per clone)", async () => {
    // The first run may have to make the template; the second is a clone for certain.
    for (let i = 0; i < 2; i++) {
      const before = server.received.length;
      const r = await runCli(
        ['exec', '--accel', 'tcg', '--verbose', '--net-host', '--', 'bash', '-c', echoMiB(server.port)],
        { timeoutMs: 200_000 },
      );
      expect(r.code, said(r)).toBe(0);
      if (i === 1) expect(r.stderr).toMatch(/snapshot found/);
      await checkEcho(r.stdout.toString(), before);
    }
  }, 400_000);

  it('two clones at once each get a NAT of their own; SIGKILL of `exec` leaves no NAT and no QEMU; clean removes the rest', async () => {
    const start = (): CliChild =>
      spawnCli([
        'exec',
        '--accel',
        'tcg',
        '--net-host',
        '--',
        'bash',
        '-c',
        `echo hi | socat -t 5 - TCP:host.virtualghost.internal:${server.port} && echo started; sleep 120`,
      ]);
    const clis = [start(), start()];
    try {
      await Promise.all(clis.map((c) => c.waitForStdout('started', 150_000)));
      const vms = clis.map((c) => vmDirOwnedBy(c.child.pid as number));
      const nats = vms.map((vm) => vm?.owner.helpers?.[0]);
      for (const [i, nat] of nats.entries()) {
        expect(nat, 'owner.json records the NAT').toBeDefined();
        const cmdline = readFileSync(`/proc/${nat!.pid}/cmdline`, 'utf8').split('\0');
        expect(cmdline[0]).toMatch(/passt/);
        expect(cmdline).toContain(join(vms[i]!.dir, 'passt.sock'));
      }
      expect(nats[0]!.pid).not.toBe(nats[1]!.pid);
      for (const c of clis) c.child.kill('SIGKILL');
      await Promise.all(clis.map((c) => c.done));
      const pids = [...nats.map((n) => n!.pid), ...vms.map((vm) => vm!.owner.vmm!.pid)];
      const gone = await eventually(() => pids.every((p) => !processAlive(p)), 5000);
      expect(gone, `still running 5 s after SIGKILL of exec: ${pids.filter(processAlive).join(', ')}`).toBe(true);
      const clean = await runCli(['clean']);
      expect(clean.code, clean.stderr).toBe(0);
      for (const vm of vms) expect(existsSync(vm!.dir)).toBe(false);
    } finally {
      for (const c of clis) c.child.kill('SIGKILL');
    }
  }, 300_000);

  it('a named VM with --net: SIGKILL of its supervisor takes the NAT with the VMM', async () => {
    const started = await runCli(['run', 'netvm', '--detach', '--net', '--accel', 'tcg'], { timeoutMs: 200_000 });
    expect(started.code, started.stderr).toBe(0);
    const owner = readOwner(join(ghostPaths().vmsDir, 'netvm', 'owner.json'));
    const nat = owner?.helpers?.[0];
    expect(nat, 'owner.json records the NAT').toBeDefined();
    expect(processAlive(nat!.pid)).toBe(true);
    process.kill(owner!.host.pid, 'SIGKILL');
    const gone = await eventually(() => !processAlive(nat!.pid) && !processAlive(owner!.vmm!.pid), 10_000);
    expect(gone, 'passt and QEMU gone 10 s after the supervisor was SIGKILLed').toBe(true);
    const clean = await runCli(['clean']);
    expect(clean.stdout.toString()).toContain('removed netvm');
  }, 300_000);

  it('--net without passt installed: exit 69 before anything boots, saying what to install', async () => {
    // A PATH with QEMU but no passt.
    const bin = mkdtempSync(join(tmpdir(), 'vg-nopasst-'));
    try {
      for (const tool of ['qemu-system-x86_64', 'qemu-img', 'setpriv'])
        symlinkSync(execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim(), join(bin, tool));
      const r = await runCli(['exec', '--accel', 'tcg', '--net', '--', 'true'], { env: { PATH: bin } });
      expect(r.code, said(r)).toBe(69);
      expect(r.stderr).toMatch(/needs passt.*apt-get install passt/);
      expect(r.stdout.length).toBe(0);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  it('--net on Firecracker: exit 69 before anything boots, naming what is missing', async () => {
    const r = await runCli(['exec', '--backend', 'firecracker', '--net', '--', 'true']);
    expect(r.code, said(r)).toBe(69);
    expect(r.stderr).toMatch(
      /Firecracker backend has no guest network yet: it needs a TAP device inside a user \+ network namespace/,
    );
  });
});
