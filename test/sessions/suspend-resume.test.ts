/**
 * A kept named VM saved as it runs and resumed (issue #18), through the real CLI, one VM for the file:
 * `stop NAME` saves it and `ps` says suspended with the state's size; `attach NAME` resumes it with a
 * `sleep` started before still running under the same pid, its files, the same pinned host key and client
 * key (OpenSSH with the ssh-config written before the stop), the guest clock pushed forward, and the state
 * used up. A damaged state, or one saved by another QEMU version, boots the kept disk cold with a notice
 * and no file lost; `stop --discard-state` drops a saved state and keeps only the disk.
 */
import { closeSync, lstatSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hostAlias } from '../../src/host/store/named-vm-files.js';
import { ghostPaths } from '../../src/host/store/paths.js';
import { runCli } from '../helpers/cli.js';
import { writeSshConfig } from '../helpers/named-vm.js';
import { runTool } from '../helpers/run-tool.js';

const NAME = `susp-${process.pid}`;
const local = mkdtempSync(join(tmpdir(), 'vg-suspend-'));
const configFile = join(local, 'ssh_config');
const keptDir = join(ghostPaths().stateDir, 'vms', NAME);
const vmDir = join(ghostPaths().vmsDir, NAME);
const env = { VIRTUALGHOST_ACCEL: 'tcg' };

const ps = async (): Promise<Record<string, unknown> | undefined> =>
  (JSON.parse((await runCli(['ps', '--json'])).stdout.toString()) as Array<Record<string, unknown>>).find(
    (r) => r['name'] === NAME,
  );
const execIn = async (script: string): Promise<string> => {
  const r = await runCli(['exec', NAME, '--', 'sh', '-c', script]);
  expect(r.stderr.toString()).toBe('');
  expect(r.code).toBe(0);
  return r.stdout.toString();
};
const ssh = (cmd: string) =>
  runTool('ssh', ['-F', configFile, '-o', 'BatchMode=yes', hostAlias(NAME), cmd], { timeoutMs: 60_000 });
const knownHosts = (): string => readFileSync(join(vmDir, 'known_hosts'), 'utf8');
const mode = (p: string): number => lstatSync(p).mode & 0o777;

afterAll(async () => {
  await runCli(['stop', NAME, '--discard-state']);
  await runCli(['rm', NAME]);
  rmSync(local, { recursive: true, force: true });
});

describe('suspend and resume of a kept VM', () => {
  let sleepPid = '';
  let pinned = '';

  it('stop saves a kept VM as it runs: ps says suspended, with the state size; the state is private', async () => {
    const started = await runCli(['run', NAME, '--detach', '--keep'], { env });
    expect(started.code, started.stderr.toString()).toBe(0);
    sleepPid = (
      await execIn('setsid sleep 100000 </dev/null >/dev/null 2>&1 & echo $!; echo first > /root/kept.txt')
    ).trim();
    expect(sleepPid).toMatch(/^\d+$/);
    await writeSshConfig(NAME, configFile);
    pinned = knownHosts();
    expect((await ssh('cat /root/kept.txt')).stdout.toString()).toBe('first\n');

    const stop = await runCli(['stop', NAME]);
    expect(stop.code, stop.stderr.toString()).toBe(0);
    const row = await ps();
    expect(row).toMatchObject({ state: 'suspended', kind: 'kept' });
    const bytes = row?.['savedStateBytes'] as number;
    expect(bytes).toBeGreaterThan(10 * 1024 * 1024);
    expect(bytes).toBe(lstatSync(join(keptDir, 'saved-state.bin')).size);
    expect((await runCli(['ps'])).stdout.toString()).toMatch(new RegExp(`${NAME}\\s+suspended \\(\\d+M\\)\\s+kept`));
    expect(mode(keptDir)).toBe(0o700);
    expect(mode(join(keptDir, 'saved-state.bin'))).toBe(0o600);
    expect(mode(join(keptDir, 'saved-state.json'))).toBe(0o600);
    // Not running: verbs that need the VM say so (68), as for any stopped VM.
    expect((await runCli(['exec', NAME, '--', 'true'])).code).toBe(68);
  });

  it('attach resumes it: the same sleep (pid), its files, the same keys for OpenSSH, the clock pushed forward', async () => {
    const attach = await runCli(['attach', NAME], { stdin: 'exit\n', env });
    expect(attach.stderr.toString()).not.toMatch(/cold|cannot be resumed/);
    expect((await ps())?.['state']).toBe('running');
    expect(await execIn(`cat /proc/${sleepPid}/cmdline | tr '\\0' ' '; cat /root/kept.txt`)).toBe(
      'sleep 100000 first\n',
    );
    // The ssh-config (and key) written before the stop still works: same client key, same pinned host key.
    expect(knownHosts()).toBe(pinned);
    const viaSsh = await ssh('date +%s');
    expect(viaSsh.code, viaSsh.stderr.toString()).toBe(0);
    expect(Math.abs(Number(viaSsh.stdout.toString().trim()) - Date.now() / 1000)).toBeLessThan(10);
    // Used once: a resumed VM's state is gone (its disk moves on from here).
    expect(() => lstatSync(join(keptDir, 'saved-state.bin'))).toThrow();
    expect(() => lstatSync(join(keptDir, 'saved-state.json'))).toThrow();
  });

  it('a damaged saved state boots the kept disk cold, with a notice, and loses no file', async () => {
    await execIn('echo second > /root/later.txt');
    expect((await runCli(['stop', NAME])).code).toBe(0);
    const state = join(keptDir, 'saved-state.bin');
    const size = lstatSync(state).size;
    const fd = openSync(state, 'r+');
    writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, Math.floor(size / 2));
    closeSync(fd);
    expect(lstatSync(state).size).toBe(size); // same size: only the hash can tell

    const run = await runCli(['run', NAME, '--detach'], { env });
    expect(run.code, run.stderr.toString()).toBe(0);
    expect(run.stderr.toString()).toMatch(
      new RegExp(
        `VM ${NAME}'s saved state cannot be resumed \\(.*saved-state\\.bin is damaged.*\\): booting it cold from its disk`,
      ),
    );
    expect(await execIn('cat /root/kept.txt /root/later.txt')).toBe('first\nsecond\n');
    // Booted cold: the old sleep is gone, which proves no state was loaded.
    expect(await execIn(`test -e /proc/${sleepPid} && echo alive || echo gone`)).toMatch(/gone/);
    expect(() => lstatSync(state)).toThrow();
  });

  it('a state saved by another QEMU version boots the disk cold too, naming both versions', async () => {
    await execIn('echo third > /root/third.txt');
    expect((await runCli(['stop', NAME])).code).toBe(0);
    const metaFile = join(keptDir, 'saved-state.json');
    const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as { identity: string };
    expect(meta.identity).toMatch(/^QEMU emulator version \S+.* layout [0-9a-f]{16}$/);
    writeFileSync(
      metaFile,
      JSON.stringify({ ...meta, identity: meta.identity.replace(/version \S+/, 'version 6.0.0') }),
    );
    const run = await runCli(['run', NAME, '--detach'], { env });
    expect(run.code, run.stderr.toString()).toBe(0);
    expect(run.stderr.toString()).toMatch(
      new RegExp(
        `VM ${NAME}'s saved state cannot be resumed \\(it was saved by QEMU emulator version 6\\.0\\.0 .*, this is QEMU emulator version (?!6\\.0\\.0)`,
      ),
    );
    expect(await execIn('cat /root/kept.txt /root/later.txt /root/third.txt')).toBe('first\nsecond\nthird\n');
    expect(() => lstatSync(metaFile)).toThrow();
  });

  it('stop --discard-state drops a saved state and keeps only the disk; suspend then has nothing to resume', async () => {
    expect((await runCli(['stop', NAME])).code).toBe(0);
    expect((await ps())?.['state']).toBe('suspended');
    const stop = await runCli(['stop', NAME, '--discard-state']);
    expect(stop.code, stop.stderr.toString()).toBe(0);
    expect(stop.stdout.toString()).toBe(`${NAME}\n`);
    expect(await ps()).toMatchObject({ state: 'stopped', kind: 'kept', savedStateBytes: null });
    expect(() => lstatSync(join(keptDir, 'saved-state.bin'))).toThrow();
    expect(() => lstatSync(join(keptDir, 'saved-state.json'))).toThrow();
    expect(lstatSync(join(keptDir, 'disk.qcow2')).isFile()).toBe(true);
    const suspend = await runCli(['suspend', NAME]);
    expect(suspend.code).toBe(68);
    expect(suspend.stderr.toString()).toContain(`VM ${NAME} is stopped without a saved state`);
  });
});
