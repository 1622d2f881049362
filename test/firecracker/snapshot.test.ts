/** Snapshot create (pause → create → resume) and load into a fresh process, against the stand-in. */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VmStartError } from '../../src/host/vm/errors.js';
import { isSnapshotRestorer, isSnapshotter } from '../../src/host/vm/firecracker/driver.js';
import { FirecrackerApiError, FirecrackerSnapshotError } from '../../src/host/vm/firecracker/errors.js';
import { isAlive, makeSandbox, specErrors, waitFor, type Sandbox } from './helpers.js';

let sb: Sandbox;
const toStop: { stop(): Promise<void> }[] = [];
beforeEach(async () => {
  sb = await makeSandbox();
});
afterEach(async () => {
  for (const vm of toStop.splice(0)) await vm.stop().catch(() => undefined);
  await sb.cleanup();
});

describe('Firecracker snapshots', () => {
  it('creates a snapshot with pause → create → resume, and restores it in a fresh process with vsock_override', async () => {
    const factory = sb.factory();
    expect(isSnapshotRestorer(factory)).toBe(true);
    const vm = factory.create(sb.vmSpec(), await sb.dir('vm1'), 'kvm');
    toStop.push(vm);
    expect(isSnapshotter(vm)).toBe(true);
    await vm.start(AbortSignal.timeout(10_000));
    const firstPid = vm.pid;
    const snapDir = join(sb.root, 'snap');
    const snap = await vm.snapshot(snapDir);
    expect(vm.state).toBe('running');
    for (const f of [snap.statePath, snap.memPath, snap.diskPath]) expect(existsSync(f)).toBe(true);
    const snapReqs = sb.requests(firstPid).slice(7);
    expect(snapReqs.map((r) => `${r.method} ${r.path} ${r.raw}`)).toEqual([
      'PATCH /vm {"state":"Paused"}',
      `PUT /snapshot/create ${JSON.stringify({ snapshot_type: 'Full', snapshot_path: snap.statePath, mem_file_path: snap.memPath })}`,
      'PATCH /vm {"state":"Resumed"}',
    ]);
    await vm.stop();

    const dir2 = await sb.dir('vm2');
    const restored = factory.restore(snap, sb.vmSpec({ name: 'clone' }), dir2, 'kvm');
    toStop.push(restored);
    await restored.start(AbortSignal.timeout(10_000));
    expect(restored.pid).not.toBe(firstPid);
    const loadReqs = sb.requests(restored.pid);
    expect(loadReqs.map((r) => `${r.method} ${r.path}`)).toEqual(['PUT /logger', 'PUT /metrics', 'PUT /snapshot/load']);
    expect(JSON.parse(loadReqs[2]?.raw ?? '{}')).toEqual({
      snapshot_path: snap.statePath,
      mem_backend: { backend_type: 'File', backend_path: snap.memPath },
      vsock_override: { uds_path: 'vsock.sock' },
      resume_vm: true,
    });
    expect(existsSync(dir2.file('rootfs.ext4'))).toBe(true);
    const stream = await restored.channel('control').connect({ signal: AbortSignal.timeout(5_000), timeoutMs: 5_000 });
    stream.destroy();
    await restored.stop();
    expect(specErrors(sb.entries())).toEqual([]);
  });

  it('a failed load gives a clear error, ends the process and leaves nothing behind', async () => {
    const factory = sb.factory();
    const vm = factory.create(sb.vmSpec(), await sb.dir('vm1'), 'kvm');
    toStop.push(vm);
    await vm.start(AbortSignal.timeout(10_000));
    const snap = await vm.snapshot(join(sb.root, 'snap'));
    await vm.stop();
    writeFileSync(snap.statePath, 'corrupted state file');

    const dir2 = await sb.dir('vm2');
    const restored = factory.restore(snap, sb.vmSpec({ name: 'clone' }), dir2, 'kvm');
    toStop.push(restored);
    const err = await restored.start(AbortSignal.timeout(10_000)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VmStartError);
    expect((err as Error).cause).toBeInstanceOf(FirecrackerSnapshotError);
    const fault = sb.requests().find((r) => r.path === '/snapshot/load')?.fault;
    expect(fault).toMatch(/deserialize/);
    expect((err as Error).message).toContain(fault);
    expect((err as Error).message).toContain(snap.dir);
    const pid =
      sb
        .entries()
        .filter((e) => e.event === 'start')
        .at(-1)?.pid ?? -1;
    expect(await waitFor(() => !isAlive(pid), 3_000)).toBe(true);
    expect(restored.state).toBe('failed');
    // Only logs remain: no disk copy, no sockets.
    expect(readdirSync(dir2.path).sort()).toEqual([
      'console.log',
      'firecracker-metrics.json',
      'firecracker.log',
      'firecracker.stderr.log',
    ]);
  });

  it('refuses to snapshot a VM that is not running', async () => {
    const vm = sb.factory().create(sb.vmSpec(), await sb.dir('vm1'), 'kvm');
    await expect(vm.snapshot(join(sb.root, 'snap'))).rejects.toBeInstanceOf(FirecrackerSnapshotError);
  });

  it('a failed create whose resume fails too reports the create failure, with the resume failure as context', async () => {
    const createFault = 'Create snapshot error: Cannot save the memory file: No space left on device (os error 28)';
    const resumeFault = 'Resume microVM error: Failed to resume vCPUs';
    const vm = sb
      .factory({}, { FAKE_FC_FAULTS: JSON.stringify({ createSnapshot: createFault, 'patchVm:Resumed': resumeFault }) })
      .create(sb.vmSpec(), await sb.dir('vm1'), 'kvm');
    toStop.push(vm);
    await vm.start(AbortSignal.timeout(10_000));
    const snapDir = join(sb.root, 'snap');
    const err = await vm.snapshot(snapDir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FirecrackerSnapshotError);
    const message = (err as Error).message;
    // The headline is the step that failed; the resume's failure follows it.
    expect(message).toMatch(/^snapshot of VM test-vm failed at step "create": /);
    expect(message).toContain(createFault);
    expect(message).toContain(resumeFault);
    expect(message.indexOf(createFault)).toBeLessThan(message.indexOf(resumeFault));
    expect((err as Error).cause).toBeInstanceOf(FirecrackerApiError);
    expect(((err as Error).cause as FirecrackerApiError).faultMessage).toBe(createFault);
    expect(((err as FirecrackerSnapshotError).resumeError as Error).message).toContain(resumeFault);
    expect(existsSync(snapDir)).toBe(false);
    const reqs = sb
      .requests(vm.pid)
      .slice(7)
      .map((r) => `${r.method} ${r.path} ${r.status ?? ''}`);
    expect(reqs).toEqual(['PATCH /vm 204', 'PUT /snapshot/create 400', 'PATCH /vm 400']);
    expect(specErrors(sb.entries())).toEqual([]);
  });

  it('a failed create with a working resume leaves the VM running; a failed resume after a good create is the error', async () => {
    const createFault = 'Create snapshot error: Cannot save the microVM state';
    const vm = sb
      .factory({}, { FAKE_FC_FAULTS: JSON.stringify({ createSnapshot: createFault }) })
      .create(sb.vmSpec(), await sb.dir('vm1'), 'kvm');
    toStop.push(vm);
    await vm.start(AbortSignal.timeout(10_000));
    const err = await vm.snapshot(join(sb.root, 'snap')).catch((e: unknown) => e);
    expect((err as Error).message).toContain(createFault);
    expect((err as FirecrackerSnapshotError).resumeError).toBeUndefined();
    expect(sb.requests(vm.pid).at(-1)).toMatchObject({
      method: 'PATCH',
      path: '/vm',
      raw: '{"state":"Resumed"}',
      status: 204,
    });

    const resumeFault = 'Resume microVM error: Failed to resume vCPUs';
    const vm2 = sb
      .factory({}, { FAKE_FC_FAULTS: JSON.stringify({ 'patchVm:Resumed': resumeFault }) })
      .create(sb.vmSpec({ name: 'vm2' }), await sb.dir('vm2'), 'kvm');
    toStop.push(vm2);
    await vm2.start(AbortSignal.timeout(10_000));
    const err2 = await vm2.snapshot(join(sb.root, 'snap2')).catch((e: unknown) => e);
    expect((err2 as Error).message).toMatch(
      /could not be resumed after the snapshot and stays paused: .*Failed to resume vCPUs/,
    );
  });
});
