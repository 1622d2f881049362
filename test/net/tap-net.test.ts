/**
 * The Firecracker backend's guest network — a TAP in a user + network namespace of the VM's own, bridged
 * to pasta (net/netns.ts) — tested with a real guest: QEMU as the TAP's consumer (`qemu.nat = "tap"`:
 * `-netdev tap,ifname=vgtap0,script=no` with QEMU run inside that namespace), since Firecracker cannot
 * run here. Through the real CLI; test traffic stays on this machine (a server on the host's 127.0.0.1).
 * - `--net`: eth0 has its address, route and resolver before the command runs; the host's 127.0.0.1 is
 *   out of reach, even to a guest (root) that removes its own guard route; QEMU runs in a namespace that
 *   is not ours, holding the TAP. SIGKILL of `exec` leaves no VMM, pasta or namespace holder; clean
 *   removes the VM dir.
 * - `--net-host`: the host server is reached as host.virtualghost.internal, 1 MiB byte-exact both ways.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { eventually, processAlive, spawnCli, vmDirOwnedBy } from '../helpers/cli-child.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** An echo server on 127.0.0.1 that records each connection and the sha256 of what it got. */
let server: Server;
let port = 0;
const received: string[] = [];
let connections = 0;
const sockets = new Set<Socket>();

beforeAll(async () => {
  process.env['VIRTUALGHOST_QEMU__NAT'] = 'tap'; // inherited by every CLI this file starts
  server = createServer((sock) => {
    connections++;
    sockets.add(sock);
    const chunks: Buffer[] = [];
    sock.on('data', (d: Buffer) => chunks.push(d));
    sock.pipe(sock);
    sock.on('error', () => undefined);
    sock.on('close', () => {
      received.push(sha(Buffer.concat(chunks)));
      sockets.delete(sock);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  await runCli(['stop', '--all']);
  await runCli(['clean']);
  for (const s of sockets) s.destroy();
  await new Promise((r) => server.close(r));
  delete process.env['VIRTUALGHOST_QEMU__NAT'];
});

const timed = (label: string, cmd: string): string =>
  `s=$(date +%s%N); ${cmd}; rc=$?; echo "${label} rc=$rc ms=$(( ($(date +%s%N) - s) / 1000000 ))"`;
const timing = (out: string, label: string): { rc: number; ms: number } => {
  const m = new RegExp(`${label} rc=(\\d+) ms=(\\d+)`).exec(out);
  if (!m) throw new Error(`no ${label} timing in: ${out}`);
  return { rc: Number(m[1]), ms: Number(m[2]) };
};

describe('guest network through a TAP in a namespace (QEMU as the TAP consumer)', () => {
  it("--net: address, route, resolver; the host's 127.0.0.1 out of reach; SIGKILL of exec leaves nothing", async () => {
    const before = connections;
    const script = [
      'ip -o -4 addr show dev eth0',
      'ip route',
      'cat /etc/resolv.conf',
      'getent hosts host.virtualghost.internal',
      timed('named', `timeout 10 bash -c 'echo x > /dev/tcp/host.virtualghost.internal/${port}' 2>/dev/null`),
      'ip route del unreachable 10.0.2.2',
      timed('unguarded', `timeout 3 bash -c 'echo x > /dev/tcp/10.0.2.2/${port}' 2>/dev/null`),
      'echo checks-done',
      'sleep 300',
    ].join('\n');
    const cli = spawnCli(['exec', '--accel', 'tcg', '--cold', '--net', '--', 'bash', '-c', script]);
    try {
      await cli.waitForStdout('checks-done', 200_000);
      const out = cli.stdout();
      expect(out).toMatch(/eth0\s+inet 10\.0\.2\.15\/24 /);
      expect(out).toMatch(/^default via 10\.0\.2\.2 dev eth0/m);
      expect(out).toMatch(/^nameserver 10\.0\.2\.3$/m);
      expect(out).toMatch(/^10\.0\.2\.2\s+host\.virtualghost\.internal$/m);
      const named = timing(out, 'named');
      expect(named.rc, out).not.toBe(0);
      expect(named.ms, 'a refused host connection fails fast, it does not hang').toBeLessThan(2000);
      expect(timing(out, 'unguarded').rc, out).not.toBe(0);
      expect(connections - before, 'connections that reached the host server').toBe(0);

      const vm = vmDirOwnedBy(cli.child.pid as number);
      expect(vm, 'the exec has a VM dir').toBeDefined();
      const vmm = vm!.owner.vmm!.pid;
      const helpers = (vm!.owner.helpers ?? []).map((h) => h.pid);
      expect(helpers, 'owner.json records the holder and pasta').toHaveLength(2);
      const cmdlines = helpers.map((p) => readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0'));
      expect(cmdlines.some((c) => c.some((a) => a.includes(vm!.dir)) && c.includes('vg-netns'))).toBe(true);
      expect(cmdlines.some((c) => /pasta/.test(c[0] ?? '') && c.includes('--no-map-gw'))).toBe(true);
      const qemuNs = readlinkSync(`/proc/${vmm}/ns/net`);
      expect(qemuNs, 'QEMU runs in a network namespace that is not ours').not.toBe(readlinkSync('/proc/self/ns/net'));
      expect(readFileSync(`/proc/${vmm}/cmdline`, 'utf8')).toContain('tap,id=net0,ifname=vgtap0,script=no');

      cli.child.kill('SIGKILL');
      await cli.done;
      const pids = [vmm, ...helpers];
      expect(
        await eventually(() => pids.every((p) => !processAlive(p)), 5000),
        `still running 5 s after SIGKILL of exec: ${pids.filter(processAlive).join(', ')}`,
      ).toBe(true);
      const clean = await runCli(['clean']);
      expect(clean.code, clean.stderr).toBe(0);
      expect(existsSync(vm!.dir)).toBe(false);
    } finally {
      cli.child.kill('SIGKILL');
    }
  }, 300_000);

  it('--net-host: the host server is reached as host.virtualghost.internal, 1 MiB byte-exact both ways', async () => {
    const before = received.length;
    const echo = [
      'head -c 1048576 /dev/urandom > /tmp/up',
      `exec 3<>/dev/tcp/host.virtualghost.internal/${port}`,
      'cat /tmp/up >&3 &',
      'timeout 60 head -c 1048576 <&3 > /tmp/down; echo "echo rc=$?"',
      'exec 3<&-',
      'wait',
      'sha256sum /tmp/up /tmp/down',
    ].join('\n');
    const r = await runCli(
      ['exec', '--accel', 'tcg', '--cold', '--net-host', '--', 'bash', '-c', `ip route; ${echo}`],
      {
        timeoutMs: 200_000,
      },
    );
    const out = r.stdout.toString();
    expect(r.code, `${out}\n${r.stderr}`).toBe(0);
    expect(out).not.toMatch(/unreachable/);
    expect(out).toContain('echo rc=0');
    const sums = [...out.matchAll(/^([0-9a-f]{64}) {2}\/tmp\/(up|down)$/gm)].map((m) => m[1]);
    expect(sums).toHaveLength(2);
    expect(sums[0]).toBe(sums[1]);
    expect(
      await eventually(() => received.slice(before).includes(sums[0] as string), 5000),
      'the host server got the same 1 MiB',
    ).toBe(true);
  }, 300_000);
});
