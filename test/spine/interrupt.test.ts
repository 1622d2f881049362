/**
 * Ctrl-C (SIGINT) and SIGTERM while a VM boots or runs: the CLI exits 128+N and leaves nothing behind —
 * no VMM, no per-VM dir — without relying on `clean`.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { eventually, processAlive, spawnCli, vmDirOwnedBy } from '../helpers/cli-child.js';

describe('interrupted runs', () => {
  it('SIGINT while the VM is still booting: exit 130, VMM and per-VM dir gone', async () => {
    const cli = spawnCli(['exec', '--cold', '--accel', 'tcg', '--', 'true']);
    const pid = cli.child.pid as number;
    // Wait until the VMM is running (owner.json names it), then interrupt long before the guest is up.
    expect(await eventually(() => vmDirOwnedBy(pid)?.owner.vmm !== undefined, 20_000)).toBe(true);
    const vm = vmDirOwnedBy(pid);
    const vmmPid = vm?.owner.vmm?.pid as number;
    cli.child.kill('SIGINT');
    const result = await cli.done;
    expect(result.code).toBe(130);
    expect(existsSync(vm?.dir as string)).toBe(false);
    expect(await eventually(() => !processAlive(vmmPid), 5000)).toBe(true);
  });

  it('SIGTERM while a command runs: exit 143, VMM and per-VM dir gone', async () => {
    const cli = spawnCli(['exec', '--accel', 'tcg', '--', 'sh', '-c', 'echo started; sleep 60']);
    await cli.waitForStdout('started', 100_000);
    const vm = vmDirOwnedBy(cli.child.pid as number);
    const vmmPid = vm?.owner.vmm?.pid as number;
    expect(vmmPid).toBeGreaterThan(0);
    cli.child.kill('SIGTERM');
    const result = await cli.done;
    expect(result.code).toBe(143);
    expect(existsSync(vm?.dir as string)).toBe(false);
    expect(await eventually(() => !processAlive(vmmPid), 5000)).toBe(true);
  });
});
