/** Driver lifecycle against the spec-following stand-in: boot sequence, faults, stop, guest reboot. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VmExitedError, VmStartError } from '../../src/host/vm/errors.js';
import { FirecrackerApiError } from '../../src/host/vm/firecracker/errors.js';
import type { FirecrackerVm } from '../../src/host/vm/firecracker/vm.js';
import { isAlive, makeSandbox, specErrors, waitFor, type Sandbox } from './helpers.js';

let sb: Sandbox;
const started: { stop(): Promise<void> }[] = [];
beforeEach(async () => {
  sb = await makeSandbox();
});
afterEach(async () => {
  for (const vm of started.splice(0)) await vm.stop().catch(() => undefined);
  await sb.cleanup();
});

async function roundTrip(stream: Duplex, text: string): Promise<string> {
  stream.write(text);
  return new Promise((resolve, reject) => {
    let got = '';
    stream.on('data', (c: Buffer) => {
      got += c.toString();
      if (got.length >= text.length) resolve(got);
    });
    stream.on('error', reject);
  });
}

describe('FirecrackerDriverFactory against the stand-in', () => {
  it('boots with the documented request sequence, every body valid per the spec', async () => {
    const dir = await sb.dir('vm1');
    const vm = sb.factory().create(sb.vmSpec({ extraKernelArgs: ['ghostly.debug=1'] }), dir, 'kvm');
    started.push(vm);
    await vm.start(AbortSignal.timeout(10_000));
    expect(vm.state).toBe('running');
    expect(vm.pid).toBeGreaterThan(0);

    const reqs = sb.requests();
    expect(reqs.map((r) => `${r.method} ${r.path}`)).toEqual([
      'PUT /logger',
      'PUT /metrics',
      'PUT /boot-source',
      'PUT /drives/rootfs',
      'PUT /machine-config',
      'PUT /vsock',
      'PUT /actions',
    ]);
    expect(reqs.every((r) => r.status === 204)).toBe(true);
    expect(specErrors(sb.entries())).toEqual([]);

    const body = (path: string): Record<string, unknown> =>
      JSON.parse(reqs.find((r) => r.path === path)?.raw ?? '{}') as Record<string, unknown>;
    const args = String(body('/boot-source').boot_args).split(' ');
    expect(args).toEqual(expect.arrayContaining(['console=ttyS0', 'reboot=k', 'ghostly.debug=1']));
    expect(args).not.toContain('nomodule');
    expect(body('/boot-source')).toMatchObject({ kernel_image_path: sb.kernel, initrd_path: sb.initrd });
    expect(body('/drives/rootfs')).toEqual({
      drive_id: 'rootfs',
      path_on_host: 'rootfs.ext4',
      is_root_device: true,
      is_read_only: false,
    });
    expect(body('/machine-config')).toMatchObject({ vcpu_count: 2, mem_size_mib: 256 });
    expect(body('/vsock')).toEqual({ guest_cid: 3, uds_path: 'vsock.sock' });
    expect(body('/actions')).toEqual({ action_type: 'InstanceStart' });

    // Firecracker ran in the instance dir (relative paths), under setpriv's pdeathsig.
    const start = sb.entries().find((e) => e.event === 'start');
    expect(start?.cwd).toBe(dir.path);
    expect(start?.argv).toEqual(['--api-sock', 'fc.sock']);
    // The root drive is a private copy: same content, different file, base untouched.
    const copy = dir.file('rootfs.ext4');
    expect(readFileSync(copy, 'utf8')).toBe('BASE IMAGE');
    expect(statSync(copy).ino).not.toBe(statSync(sb.rootfs).ino);
    expect(await vm.consoleTail(5)).toContain('fake guest: running');
  });

  it('opens guest streams through hybrid vsock on the VSOCK_PORTS', async () => {
    const vm = sb.factory().create(sb.vmSpec(), await sb.dir('vm1'), 'kvm');
    started.push(vm);
    await vm.start(AbortSignal.timeout(10_000));
    const stream = await vm.channel('ssh').connect({ signal: AbortSignal.timeout(5_000), timeoutMs: 5_000 });
    expect(await roundTrip(stream, 'ping over vsock')).toBe('ping over vsock');
    stream.destroy();
    expect(
      sb
        .entries()
        .filter((e) => e.event === 'vsock-connect')
        .map((e) => e.line),
    ).toEqual(['CONNECT 10022']);
  });

  it('has an unbounded SSH pool: each pool stream is its own CONNECT to the SSH vsock port, all open at once', async () => {
    const vm = sb.factory().create(sb.vmSpec(), await sb.dir('vm1'), 'kvm');
    started.push(vm);
    await vm.start(AbortSignal.timeout(10_000));
    const pool = vm.sshPool();
    expect(pool.capacity).toBe(Infinity);
    const streams = await Promise.all(
      [0, 1, 2].map((i) => pool.channel(i).connect({ signal: AbortSignal.timeout(5_000), timeoutMs: 5_000 })),
    );
    expect(await Promise.all(streams.map((st, i) => roundTrip(st, `stream ${i}`)))).toEqual([
      'stream 0',
      'stream 1',
      'stream 2',
    ]);
    for (const st of streams) st.destroy();
    expect(
      sb
        .entries()
        .filter((e) => e.event === 'vsock-connect')
        .map((e) => e.line),
    ).toEqual(['CONNECT 10022', 'CONNECT 10022', 'CONNECT 10022']);
  });

  it('surfaces fault_message verbatim with the request when Firecracker rejects a body, and leaves nothing running', async () => {
    const dir = await sb.dir('vm1');
    const vm = sb.factory().create(sb.vmSpec({ kernelPath: `${sb.root}/missing-vmlinux` }), dir, 'kvm');
    started.push(vm);
    const err = await vm.start(AbortSignal.timeout(10_000)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VmStartError);
    const cause = (err as VmStartError).cause;
    expect(cause).toBeInstanceOf(FirecrackerApiError);
    const api = cause as FirecrackerApiError;
    const recorded = sb.requests().find((r) => r.path === '/boot-source');
    expect(recorded?.status).toBe(400);
    expect(api).toMatchObject({ method: 'PUT', path: '/boot-source', status: 400, faultMessage: recorded?.fault });
    expect((err as Error).message).toContain(recorded?.fault);
    expect(vm.state).toBe('failed');
    const pid = sb.entries().find((e) => e.event === 'start')?.pid ?? -1;
    expect(await waitFor(() => !isAlive(pid), 3_000)).toBe(true);
    expect(existsSync(dir.file('fc.sock'))).toBe(false);
    expect(existsSync(dir.file('rootfs.ext4'))).toBe(false);
    expect(await vm.exited).toBeDefined();
  });

  it('removes a stale API socket left by a crashed run before spawning', async () => {
    const dir = await sb.dir('vm1');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(dir.file('fc.sock'), 'stale');
    writeFileSync(dir.file('vsock.sock'), 'stale');
    const vm = sb.factory().create(sb.vmSpec(), dir, 'kvm');
    started.push(vm);
    await vm.start(AbortSignal.timeout(10_000));
    expect(vm.state).toBe('running');
  });

  it('stop(): SendCtrlAltDel makes the guest reboot and Firecracker exit; idempotent; sockets removed', async () => {
    const dir = await sb.dir('vm1');
    const vm = sb.factory().create(sb.vmSpec(), dir, 'kvm');
    started.push(vm);
    await vm.start(AbortSignal.timeout(10_000));
    const t0 = Date.now();
    await Promise.all([vm.stop(), vm.stop()]);
    await vm.stop();
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(await vm.exited).toEqual({ code: 0, signal: null });
    expect(vm.state).toBe('stopped');
    expect(sb.requests().at(-1)).toMatchObject({
      method: 'PUT',
      path: '/actions',
      raw: '{"action_type":"SendCtrlAltDel"}',
      status: 204,
    });
    expect(specErrors(sb.entries())).toEqual([]);
    expect(existsSync(dir.file('fc.sock'))).toBe(false);
    expect(existsSync(dir.file('vsock.sock'))).toBe(false);
  });

  it('stop(): a guest that ignores Ctrl+Alt+Del gets SIGTERM after the grace period', async () => {
    const vm = sb.factory({}, { FAKE_FC_CTRL_ALT_DEL: 'ignore' }).create(sb.vmSpec(), await sb.dir('vm1'), 'kvm');
    started.push(vm);
    await vm.start(AbortSignal.timeout(10_000));
    const t0 = Date.now();
    await vm.stop({ timeoutMs: 300 });
    const took = Date.now() - t0;
    expect(await vm.exited).toEqual({ code: null, signal: 'SIGTERM' });
    expect(took).toBeGreaterThanOrEqual(300);
    expect(took).toBeLessThan(2_500);
    expect(vm.state).toBe('stopped');
  });

  it('stop() before start() settles `exited` and does nothing else', async () => {
    const vm = sb.factory().create(sb.vmSpec(), await sb.dir('vm1'), 'kvm');
    await vm.stop();
    expect(vm.state).toBe('stopped');
    expect(await vm.exited).toEqual({ code: null, signal: null });
    expect(sb.entries()).toEqual([]);
  });

  it('a guest reboot ends the VM: exited resolves, state stopped, channels fail fast with VmExitedError', async () => {
    const vm = sb.factory().create(sb.vmSpec(), await sb.dir('vm1'), 'kvm') as FirecrackerVm;
    started.push(vm);
    await vm.start(AbortSignal.timeout(10_000));
    process.kill(vm.pid ?? -1, 'SIGUSR1');
    expect(await vm.exited).toEqual({ code: 0, signal: null });
    expect(vm.state).toBe('stopped');
    const t0 = Date.now();
    await expect(
      vm.channel('control').connect({ signal: AbortSignal.timeout(5_000), timeoutMs: 5_000 }),
    ).rejects.toBeInstanceOf(VmExitedError);
    expect(Date.now() - t0).toBeLessThan(500);
  });

  it('abort during start kills the process and rejects with the abort reason', async () => {
    const ac = new AbortController();
    const vm = sb.factory().create(sb.vmSpec(), await sb.dir('vm1'), 'kvm');
    started.push(vm);
    const reason = new Error('user pressed Ctrl+C');
    const p = vm.start(ac.signal);
    setTimeout(() => ac.abort(reason), 5);
    await expect(p).rejects.toBe(reason);
    const exit = await vm.exited;
    expect(exit).toBeDefined();
    expect(vm.state).toBe('failed');
  });
});
