/**
 * Firecracker with `--net`, against the stand-in: the VMM runs inside a user + network namespace of the
 * VM's own that holds its TAP (net/netns.ts), the NIC goes through `PUT /network-interfaces/{iface_id}`
 * exactly per the spec, and nothing of the namespace (holder, pasta) outlives the VM: not a stop, not a
 * SIGKILL of the process that started it. With the jailer it is refused (exit 69) before anything runs.
 * The guest side of this plumbing (address, route, DNS, host access) is tested with a real QEMU guest on
 * the same TAP: test/net/tap-net.test.ts.
 */
import { spawn } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FirecrackerApiClient } from '../../src/host/vm/firecracker/api-client.js';
import { GUEST_NET } from '../../src/shared/guest-net.js';
import { NetUnavailableError } from '../../src/host/net/errors.js';
import { FAKE_FC, isAlive, makeSandbox, specErrors, waitFor, type LogEntry, type Sandbox } from './helpers.js';

let sb: Sandbox;
const cleanups: Array<() => Promise<void> | void> = [];
beforeEach(async () => {
  sb = await makeSandbox();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await sb.cleanup();
});

const ifaces = (pid: number): string[] =>
  readFileSync(`/proc/${pid}/net/dev`, 'utf8')
    .split('\n')
    .slice(2)
    .map((l) => l.split(':')[0]?.trim() ?? '')
    .filter(Boolean);

describe('Firecracker --net', () => {
  it('runs the VMM in a namespace of its own with the TAP; the NIC request is per spec; stop leaves nothing', async () => {
    const dir = await sb.dir('vm1');
    const vm = sb.factory().create(sb.vmSpec({ net: 'nat' }), dir, 'kvm');
    cleanups.push(() => vm.stop().catch(() => undefined));
    await vm.start(AbortSignal.timeout(20_000));
    const reqs = sb.requests();
    expect(reqs.map((r) => `${r.method} ${r.path}`)).toEqual([
      'PUT /logger',
      'PUT /metrics',
      'PUT /boot-source',
      'PUT /drives/rootfs',
      'PUT /machine-config',
      'PUT /vsock',
      'PUT /network-interfaces/eth0',
      'PUT /actions',
    ]);
    expect(reqs.every((r) => r.status === 204)).toBe(true);
    expect(specErrors(sb.entries())).toEqual([]);
    const nic = reqs.find((r) => r.path === '/network-interfaces/eth0');
    expect(JSON.parse(nic?.raw ?? '{}')).toEqual({
      iface_id: 'eth0',
      guest_mac: GUEST_NET.mac,
      host_dev_name: 'vgtap0',
    });
    const bootArgs = String((JSON.parse(reqs[2]?.raw ?? '{}') as { boot_args: string }).boot_args).split(' ');
    expect(bootArgs).toContain('ghostly.net=nat');

    // The VMM's network namespace is not ours, and holds the TAP bridged to pasta's.
    const start = sb.entries().find((e) => e.event === 'start') as LogEntry & { netns: string };
    expect(start.netns).not.toBe(readlinkSync('/proc/self/ns/net'));
    const vmmPid = vm.pid as number;
    expect(readlinkSync(`/proc/${vmmPid}/ns/net`)).toBe(start.netns);
    expect(ifaces(vmmPid)).toEqual(expect.arrayContaining(['lo', 'vgtap0', 'vgbr0', 'vgnat0']));
    expect(ifaces(process.pid)).not.toContain('vgtap0');
    const helpers = vm.helperPids ?? [];
    expect(helpers).toHaveLength(2);
    const [holder, pasta] = helpers as [number, number];
    expect(readFileSync(`/proc/${pasta}/cmdline`, 'utf8').split('\0')).toEqual(
      expect.arrayContaining(['--no-map-gw', String(holder)]),
    );
    expect(readFileSync(`/proc/${holder}/cmdline`, 'utf8')).toContain(dir.path);

    await vm.stop();
    expect(await waitFor(() => [vmmPid, holder, pasta].every((p) => !isAlive(p)), 5_000)).toBe(true);
  }, 60_000);

  it('--net-host: pasta maps the gateway to the host (no --no-map-gw); a restored clone gets a namespace and NAT of its own', async () => {
    const vm = sb.factory().create(sb.vmSpec({ net: 'nat-host' }), await sb.dir('tpl'), 'kvm');
    cleanups.push(() => vm.stop().catch(() => undefined));
    await vm.start(AbortSignal.timeout(20_000));
    expect(readFileSync(`/proc/${(vm.helperPids ?? [])[1]}/cmdline`, 'utf8').split('\0')).not.toContain('--no-map-gw');
    const snap = await vm.snapshot(`${sb.root}/snap`);
    const clone = sb.factory().restore(snap, sb.vmSpec({ net: 'nat-host' }), await sb.dir('clone'), 'kvm');
    cleanups.push(() => clone.stop().catch(() => undefined));
    await clone.start(AbortSignal.timeout(20_000));
    const load = sb.requests(clone.pid).find((r) => r.path === '/snapshot/load');
    expect(load?.status, load?.fault).toBe(204);
    expect(readlinkSync(`/proc/${clone.pid}/ns/net`)).not.toBe(readlinkSync(`/proc/${vm.pid}/ns/net`));
    expect(clone.helperPids).toHaveLength(2);
    expect((clone.helperPids ?? []).some((p) => (vm.helperPids ?? []).includes(p))).toBe(false);
  }, 60_000);

  it('the stand-in takes the NIC request only per spec, and only for a TAP in its own namespace', async () => {
    const sock = `${sb.root}/api.sock`;
    const fc = spawn(process.execPath, [FAKE_FC, '--api-sock', sock], { env: sb.env, stdio: 'ignore' });
    cleanups.push(() => void fc.kill('SIGKILL'));
    expect(await waitFor(() => sb.entries().some((e) => e.event === 'start'), 10_000)).toBe(true);
    const api = new FirecrackerApiClient(sock);
    expect(await waitFor(() => readFileSync('/proc/net/unix', 'utf8').includes(sock), 10_000)).toBe(true);
    const put = (id: string, body: unknown): Promise<unknown> =>
      api.call('put', '/network-interfaces/{iface_id}', { params: { iface_id: id }, body: body as never }).then(
        () => 'ok',
        (e: Error) => e.message,
      );
    expect(await put('eth0', { iface_id: 'eth0' })).toMatch(/deserializing.*host_dev_name/);
    expect(await put('eth0', { iface_id: 'eth1', host_dev_name: 'vgtap0' })).toMatch(/id from the path/);
    expect(await put('eth0', { iface_id: 'eth0', host_dev_name: 'vgtap0', guest_mac: 'nope' })).toMatch(/Invalid MAC/);
    // Started in our namespace, which has no vgtap0: what the real one says when it cannot open the TAP.
    expect(await put('eth0', { iface_id: 'eth0', host_dev_name: 'vgtap0' })).toMatch(/Open tap device failed/);
  }, 30_000);

  it('with the jailer: refused before anything runs (not supported yet), saying what to do', async () => {
    const jailer = { bin: fileURLToPath(new URL('./fake-jailer.sh', import.meta.url)), uid: 0, gid: 0 };
    const factory = sb.factory({ jailer: { ...jailer, chrootBase: `${sb.root}/jail` } });
    const vm = factory.create(sb.vmSpec({ net: 'nat' }), await sb.dir('jailed'), 'kvm');
    cleanups.push(() => vm.stop().catch(() => undefined));
    const err = await vm.start(AbortSignal.timeout(20_000)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NetUnavailableError);
    expect((err as Error).message).toMatch(/--net with firecracker\.jailer = true is not supported yet/);
    expect(sb.entries().filter((e) => e.event === 'start')).toEqual([]);
  });

  it('SIGKILL of the process that started it takes the VMM, pasta and the namespace holder down', async () => {
    const dir = await sb.dir('vm1');
    const viteNode = fileURLToPath(new URL('../../node_modules/vite-node/vite-node.mjs', import.meta.url));
    const script = fileURLToPath(new URL('./orphan-child.ts', import.meta.url));
    const child = spawn(
      process.execPath,
      [viteNode, script, dir.path, sb.kernel, sb.initrd, sb.rootfs, FAKE_FC, 'nat'],
      { env: sb.env, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    cleanups.push(() => void child.kill('SIGKILL'));
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (s: string) => {
        out += s;
        const nl = out.indexOf('\n');
        if (nl !== -1) resolve(out.slice(0, nl));
      });
      child.on('exit', (code) => reject(new Error(`child exited early with ${code}`)));
    });
    const { vmmPid, helperPids } = JSON.parse(line) as { vmmPid: number; helperPids: number[] };
    const pids = [vmmPid, ...helperPids];
    cleanups.push(() => pids.filter(isAlive).forEach((p) => process.kill(p, 'SIGKILL')));
    expect(helperPids).toHaveLength(2);
    expect(pids.every(isAlive)).toBe(true);
    const childExit = new Promise((r) => child.on('exit', r));
    child.kill('SIGKILL');
    await childExit;
    expect(
      await waitFor(() => pids.every((p) => !isAlive(p)), 5_000),
      `alive: ${pids.filter(isAlive).join(', ')}`,
    ).toBe(true);
  }, 60_000);
});
