/**
 * Named VMs through the real CLI, without a terminal: racing starts, a SIGKILLed supervisor, kept disks,
 * logs, and the errors a user gets for names that do not exist or VMs in the wrong state.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ghostPaths } from '../../src/host/store/paths.js';
import { readOwner } from '../../src/host/store/process-identity.js';
import { runCli } from '../helpers/cli.js';
import { eventually, processAlive, spawnCli } from '../helpers/cli-child.js';

const vmDir = (name: string): string => join(ghostPaths().vmsDir, name);
const ps = async (): Promise<Array<Record<string, unknown>>> =>
  JSON.parse((await runCli(['ps', '--json'])).stdout.toString()) as Array<Record<string, unknown>>;
/** Types into a named VM's first shell through a non-terminal `attach` (raw passthrough). */
const inShell = async (name: string, script: string): Promise<string> => {
  const r = await runCli(['attach', name], { stdin: `${script}\nexit\n` });
  expect(r.stderr).toBe('');
  return r.stdout.toString();
};

afterAll(async () => {
  await runCli(['stop', '--all']);
  for (const n of ['keeper']) await runCli(['rm', n]);
});

describe('named VMs from the command line', () => {
  it('two `run NAME --detach` at once: exactly one starts the VM, the other gets a clear error', async () => {
    const [a, b] = await Promise.all([runCli(['run', 'race', '--detach']), runCli(['run', 'race', '--detach'])]);
    const codes = [a.code, b.code].sort();
    expect(codes).toEqual([0, 73]);
    const loser = a.code === 73 ? a : b;
    expect(loser.stderr).toMatch(/race (is being started by another command|already exists)/);
    const rows = await ps();
    expect(rows.filter((r) => r['name'] === 'race')).toEqual([
      expect.objectContaining({ state: 'running', kind: 'supervised' }),
    ]);
    const stop = await runCli(['stop', 'race']);
    expect(stop.code).toBe(0);
    expect(existsSync(vmDir('race'))).toBe(false);
  });

  it('a SIGKILLed supervisor: its VMM follows, ps says dead, and neither the next run nor clean is blocked', async () => {
    expect((await runCli(['run', 'victim', '--detach'])).code).toBe(0);
    const owner = readOwner(join(vmDir('victim'), 'owner.json'));
    expect(owner?.vmm).toBeDefined();
    process.kill(owner!.host.pid, 'SIGKILL');
    expect(await eventually(() => !processAlive(owner!.vmm!.pid), 10_000)).toBe(true);
    expect((await ps()).find((r) => r['name'] === 'victim')).toMatchObject({ state: 'dead' });
    // Dead is "not running" (68) on every verb, not a refusal (72) on one and an SSH error (76) on another.
    const attach = await runCli(['attach', 'victim']);
    expect(attach.code).toBe(68);
    expect(attach.stderr).toMatch(/victim died.*virtualghost clean/);
    const exec = await runCli(['exec', 'victim', '--', 'true']);
    expect(exec.code).toBe(68);
    expect(exec.stderr).toMatch(/victim is not running: its supervisor is gone.*virtualghost clean/);

    // Stale state does not block the next run of the same name…
    expect((await runCli(['run', 'victim', '--detach'])).code).toBe(0);
    const second = readOwner(join(vmDir('victim'), 'owner.json'));
    expect(second?.host.pid).not.toBe(owner!.host.pid);
    process.kill(second!.host.pid, 'SIGKILL');
    expect(await eventually(() => !processAlive(second!.vmm!.pid), 10_000)).toBe(true);
    // …and `clean` removes what is left.
    const clean = await runCli(['clean']);
    expect(clean.stdout.toString()).toContain('removed victim');
    expect(existsSync(vmDir('victim'))).toBe(false);
    expect((await ps()).find((r) => r['name'] === 'victim')).toBeUndefined();
  });

  it('--keep: files survive stop and the next run; logs work while stopped; rm deletes it', async () => {
    expect((await runCli(['run', 'keeper', '--detach', '--keep', '--memory', '384M'])).code).toBe(0);
    const token = `kept-${process.pid}-${Date.now()}`;
    await inShell('keeper', `echo ${token} > /root/kept.txt`);
    const rm = await runCli(['rm', 'keeper']);
    expect(rm.code).toBe(72);
    expect(rm.stderr).toMatch(/keeper is running; `virtualghost stop keeper` first/);

    // --discard-state: only the disk is kept, so the next run boots it cold (suspend-resume.test.ts resumes one).
    expect((await runCli(['stop', 'keeper', '--discard-state'])).code).toBe(0);
    expect(existsSync(vmDir('keeper'))).toBe(false);
    expect((await ps()).find((r) => r['name'] === 'keeper')).toMatchObject({
      state: 'stopped',
      kind: 'kept',
      memoryMiB: 384,
    });
    const logs = await runCli(['logs', 'keeper']);
    expect(logs.code).toBe(0);
    expect(logs.stdout.toString()).toMatch(/VM keeper ready in \d+ ms/);

    // Back at the size it was created with, from its own disk.
    expect((await runCli(['run', 'keeper', '--detach'])).code).toBe(0);
    expect((await ps()).find((r) => r['name'] === 'keeper')).toMatchObject({
      state: 'running',
      memoryMiB: 384,
      keep: true,
    });
    expect(await inShell('keeper', 'cat /root/kept.txt')).toContain(token);
    expect((await runCli(['stop', 'keeper'])).code).toBe(0);
    expect((await runCli(['rm', 'keeper'])).code).toBe(0);
    expect((await ps()).find((r) => r['name'] === 'keeper')).toBeUndefined();
    expect(existsSync(join(ghostPaths().stateDir, 'vms', 'keeper'))).toBe(false);
  });

  it('ps lists a throw-away run too, and stop ends it as Ctrl-C would (its command exits 143, nothing left)', async () => {
    const run = spawnCli(['exec', '--', 'sleep', '120']);
    let row: Record<string, unknown> | undefined;
    const seen = async (): Promise<boolean> => {
      row = (await ps()).find(
        (r) => r['kind'] === 'throw-away' && r['state'] === 'running' && r['pid'] === run.child.pid,
      );
      return row !== undefined;
    };
    const deadline = Date.now() + 120_000;
    while (!(await seen()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    expect(row).toMatchObject({ backend: 'qemu', accel: 'tcg', sessions: null });
    const name = String(row!['name']);
    expect((await runCli(['stop', name])).code).toBe(0);
    const done = await run.done;
    expect(done.code).toBe(143);
    expect(existsSync(vmDir(name))).toBe(false);
  });

  it('logs --follow shows what the guest writes to its console as it happens, and ends with the VM', async () => {
    expect((await runCli(['run', 'chatty', '--detach'])).code).toBe(0);
    const follow = spawnCli(['logs', 'chatty', '--follow']);
    await follow.waitForStdout('guest serial console', 10_000);
    const marker = `console-marker-${process.pid}`;
    expect((await runCli(['exec', 'chatty', '--', 'sh', '-c', `echo ${marker} > /dev/console`])).code).toBe(0);
    await follow.waitForStdout(marker, 15_000);
    expect((await runCli(['stop', 'chatty'])).code).toBe(0);
    const done = await follow.done;
    expect(done.code).toBe(0);
  });

  it('names clear errors for unknown VMs and bad requests', async () => {
    const attach = await runCli(['attach', 'nosuchvm']);
    expect(attach.code).toBe(68);
    expect(attach.stderr).toContain('there is no VM named nosuchvm; see `virtualghost ps`');
    expect((await runCli(['stop', 'nosuchvm'])).code).toBe(68);
    expect((await runCli(['logs', 'nosuchvm'])).code).toBe(68);
    const keep = await runCli(['run', '--keep']);
    expect(keep.code).toBe(64);
    expect(keep.stderr).toContain('--keep needs a VM name');
    const bad = await runCli(['run', 'bad/name', '--detach']);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toContain('invalid VM name "bad/name"');
    expect(execFileSync('ps', ['-eo', 'args='], { encoding: 'utf8' })).not.toContain('__supervise bad/name');
  });
});
