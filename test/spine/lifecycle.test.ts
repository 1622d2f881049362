/**
 * Nothing survives a violent end: the VMM killed mid-session gives a clear error and leaves no per-VM dir;
 * the CLI itself SIGKILLed takes its VMM with it (parent-death signal) and `clean` removes what is left.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { execShell, runCli } from '../helpers/cli.js';
import { eventually, processAlive, spawnCli, vmDirOwnedBy, type CliChild } from '../helpers/cli-child.js';

const EXIT_VM_LOST = 79;

/** Boots a VM through `exec` and waits until the guest command runs; returns the VM's dir and QEMU pid. */
async function startLongExec(): Promise<{ cli: CliChild; dir: string; name: string; vmmPid: number }> {
  const cli = spawnCli(['exec', '--accel', 'tcg', '--', 'sh', '-c', 'echo started; sleep 60']);
  try {
    await cli.waitForStdout('started', 100_000);
    const vm = vmDirOwnedBy(cli.child.pid as number);
    expect(vm, 'per-VM dir with owner.json naming the CLI').toBeDefined();
    const vmmPid = vm?.owner.vmm?.pid as number;
    expect(vmmPid).toBeGreaterThan(0);
    // The recorded VMM really is this VM's QEMU (its command line names the VM dir).
    const cmdline = readFileSync(`/proc/${vmmPid}/cmdline`, 'utf8').split('\0');
    expect(cmdline[0]).toMatch(/qemu-system/);
    expect(cmdline.some((a) => a.includes(vm?.dir as string))).toBe(true);
    return { cli, dir: vm?.dir as string, name: vm?.name as string, vmmPid };
  } catch (err) {
    cli.child.kill('SIGTERM');
    await cli.done;
    throw err;
  }
}

describe('violent ends', () => {
  it('QEMU SIGKILLed mid-session: exit 79, a message that says the VM process exited, no per-VM dir', async () => {
    const { cli, dir, vmmPid } = await startLongExec();
    const t0 = Date.now();
    process.kill(vmmPid, 'SIGKILL');
    const r = await cli.done;
    console.log(`CLI exited ${Date.now() - t0} ms after QEMU was killed, saying:\n${r.stderr}`);
    expect(r.code, r.stderr).toBe(EXIT_VM_LOST);
    expect(r.stderr).toMatch(/virtualghost: error: .*(qemu|VM).*process exited unexpectedly.*SIGKILL/i);
    expect(existsSync(dir)).toBe(false);
    expect(processAlive(vmmPid)).toBe(false);
  });

  // Minbase has no poweroff(8); sysrq "o" is the kernel powering off at once, as poweroff -f would.
  it('the guest powers itself off: exit 79 with "shut down from inside", not "died … exit status 0"', async () => {
    const r = await execShell('sync; echo o > /proc/sysrq-trigger; sleep 30');
    expect(r.code, r.stderr.toString()).toBe(EXIT_VM_LOST);
    expect(r.stderr.toString()).toMatch(/virtualghost: error: the VM run-[0-9a-f]+ shut down from inside \(a poweroff/);
    expect(r.stderr.toString()).not.toMatch(/exit status 0/);
  });

  it('CLI SIGKILLed: QEMU is gone within 5 s; `clean` removes the stale dir, then has nothing to clean', async () => {
    const { cli, dir, name, vmmPid } = await startLongExec();
    cli.child.kill('SIGKILL');
    await cli.done;
    const t0 = Date.now();
    const gone = await eventually(() => !processAlive(vmmPid), 5000);
    console.log(`QEMU gone ${Date.now() - t0} ms after the CLI was SIGKILLed`);
    expect(gone, `QEMU pid ${vmmPid} still running 5 s after its CLI was SIGKILLed`).toBe(true);
    // A SIGKILLed process cleans nothing up: the dir is still there until `clean`.
    expect(existsSync(dir)).toBe(true);

    const first = await runCli(['clean']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout.toString()).toContain(`removed ${name}`);
    expect(first.stdout.toString()).not.toMatch(/nothing to clean/);
    expect(existsSync(dir)).toBe(false);

    const second = await runCli(['clean']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout.toString()).toMatch(/nothing to clean/);
  });
});
