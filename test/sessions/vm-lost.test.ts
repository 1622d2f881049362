/**
 * A VM that dies under a person's session is reported: its VMM (QEMU) is SIGKILLed — only that pid, found in
 * the VM's owner.json and checked against its command line — while the user sits in it, and each way of
 * being in it ends with a message that says the VM died and exit 79 (README: exit codes):
 * - the TUI of a throw-away `run` and `run --raw`, in tmux (the user's terminal);
 * - `attach NAME` (TUI, in tmux), `attach NAME --raw` and `exec NAME` on a named VM, whose supervisor tells
 *   its attached clients why (a LOST frame) instead of "the last shell exited; NAME keeps running";
 * then the supervisor cleans up as for a stopped VM. On the way, prefix-q with the guest's `ps` gone asks
 * ("could not check") instead of destroying the VM, and `attach NAME </dev/null` detaches and ends.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, runCli } from '../helpers/cli.js';
import { eventually, processAlive } from '../helpers/cli-child.js';
import { startNamedVm, type NamedVm } from '../helpers/named-vm.js';
import { tmuxPane } from '../helpers/tmux-pane.js';
import { said } from '../helpers/run-tool.js';
import { readOwner } from '../../src/host/store/process-identity.js';
import { ghostPaths } from '../../src/host/store/paths.js';

const EXIT_VM_LOST = 79;
const root = join(import.meta.dirname, '..', '..');
const socket = `vg-lost-${process.pid}`;
const env = ['XDG_RUNTIME_DIR', 'XDG_CONFIG_HOME', 'XDG_STATE_HOME', 'XDG_CACHE_HOME', 'HOME', 'PATH']
  .filter((k) => process.env[k])
  .map((k) => `${k}=${process.env[k]}`);
const cli = (args: string): string =>
  `cd ${root} && env ${env.join(' ')} TERM=tmux-256color VIRTUALGHOST_ACCEL=tcg node bin/virtualghost.js ${args}; echo "CLI-EXIT=$?"; sleep 600`;
const pane = tmuxPane(socket, 'lost');
const named: NamedVm[] = [];

afterAll(async () => {
  try {
    pane.tmux('kill-server');
  } catch {
    /* not started, or already gone */
  }
  for (const vm of named) await vm.stop().catch(() => undefined);
});

/** The one throw-away VM dir in this test run's runtime dir (tests run one file at a time). */
function throwAwayVmDir(): string {
  const vms = ghostPaths().vmsDir;
  const dirs = readdirSync(vms).filter((n) => n.startsWith('run-'));
  expect(dirs, 'exactly one throw-away VM').toHaveLength(1);
  return join(vms, dirs[0] as string);
}

/** SIGKILLs the VMM of the VM in `dir`, after checking that the recorded pid really is that VM's QEMU. */
function killVmm(dir: string): number {
  const pid = readOwner(join(dir, 'owner.json'))?.vmm?.pid;
  expect(pid, `owner.json in ${dir} names the VMM`).toBeGreaterThan(0);
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  expect(cmdline[0]).toMatch(/qemu-system/);
  expect(cmdline.some((a) => a.includes(dir))).toBe(true);
  process.kill(pid as number, 'SIGKILL');
  return pid as number;
}

function newPane(args: string): void {
  try {
    pane.tmux('kill-session', '-t', pane.target);
  } catch {
    /* the first one */
  }
  pane.tmux('new-session', '-d', '-s', pane.target, '-x', '120', '-y', '40', cli(args));
}

describe('the VM dies under a throw-away run', () => {
  it('TUI: prefix-q without a working ps asks instead of quitting; then the VM is killed: a message and exit 79', async () => {
    newPane('run');
    await pane.waitFor(
      (s) => s.includes('root@ghost') && s.includes('qemu/tcg'),
      'the guest prompt and the status line',
      150_000,
    );
    // The guest's ps is gone: the count of running programs cannot be had. Quitting must still ask.
    pane.type('mv "$(command -v ps)" /root/ps.off && echo ps-moved');
    await pane.waitFor((s) => /^ps-moved\s*$/m.test(s), 'ps to be moved away');
    pane.tmux('send-keys', '-t', pane.target, 'C-]', 'q');
    await pane.waitFor(
      (s) => s.includes('could not check for running programs — quit and destroy the VM? (y/n)'),
      'the quit question',
      20_000,
    );
    pane.tmux('send-keys', '-t', pane.target, 'n');
    pane.type('echo still-here');
    await pane.waitFor((s) => /^still-here\s*$/m.test(s), 'the shell to answer after n');

    const dir = throwAwayVmDir();
    const pid = killVmm(dir);
    const screen = await pane.waitFor((s) => s.includes('CLI-EXIT='), 'run to end after its VM was killed', 30_000);
    expect(screen).toContain(`CLI-EXIT=${EXIT_VM_LOST}`);
    expect(screen).toMatch(
      /virtualghost: error: the VM run-[0-9a-f]+ died: its qemu process exited unexpectedly \(killed by SIGKILL\)/,
    );
    expect(screen.replace(/\n/g, '')).toContain('Last console lines:');
    expect(processAlive(pid)).toBe(false);
    expect(existsSync(dir)).toBe(false);
  });

  it('run --raw: a message and exit 79 (was: exit 0 and nothing)', async () => {
    newPane('run --raw');
    await pane.waitFor((s) => s.includes('root@ghost'), 'the guest prompt', 150_000);
    pane.type('echo raw-ready');
    await pane.waitFor((s) => /^raw-ready\s*$/m.test(s), 'the shell to answer');
    const dir = throwAwayVmDir();
    killVmm(dir);
    const screen = await pane.waitFor(
      (s) => s.includes('CLI-EXIT='),
      'run --raw to end after its VM was killed',
      30_000,
    );
    expect(screen).toContain(`CLI-EXIT=${EXIT_VM_LOST}`);
    expect(screen).toMatch(
      /virtualghost: error: the VM run-[0-9a-f]+ died: its qemu process exited unexpectedly \(killed by SIGKILL\)/,
    );
    expect(existsSync(dir)).toBe(false);
  });
});

describe('the VM dies under clients of a named VM', () => {
  it('attach </dev/null detaches and ends; the VM and its shell keep running', async () => {
    const vm = await startNamedVm('lostnull');
    named.push(vm);
    const r = await runCli(['attach', vm.name], { stdin: '', timeoutMs: 30_000 });
    expect(r.code, said(r)).toBe(0);
    expect(r.stderr).toContain(`stdin ended: detached from ${vm.name}, which keeps running`);
    // A finished pipe: what it typed is run and its output shown before the detach; the shell stays.
    const piped = await runCli(['attach', vm.name], {
      stdin: 'echo piped-$((6*7)); export KEPT=yes\n',
      timeoutMs: 30_000,
    });
    expect(piped.code, said(piped)).toBe(0);
    expect(piped.stdout.toString()).toMatch(/^piped-42\r?$/m);
    expect(piped.stderr).toContain(`stdin ended: detached from ${vm.name}`);
    const again = await runCli(['attach', vm.name], { stdin: 'echo "kept=$KEPT"; exit 3\n', timeoutMs: 30_000 });
    expect(again.stdout.toString()).toMatch(/^kept=yes\r?$/m);
    expect(again.code, said(again)).toBe(3); // the shell exited before the quiet detach: its status
    // In a terminal (the TUI), with stdin from /dev/null: the same.
    newPane(`attach ${vm.name} </dev/null`);
    const screen = await pane.waitFor((s) => s.includes('CLI-EXIT='), 'attach </dev/null in a terminal to end', 30_000);
    expect(screen).toContain('CLI-EXIT=0');
    expect(screen).toContain(`stdin ended: detached from ${vm.name}`);
    const ps = await runCli(['ps', '--json']);
    expect(JSON.parse(ps.stdout.toString())).toEqual([
      expect.objectContaining({ name: vm.name, state: 'running', shells: 1 }),
    ]);
    await vm.stop();
  });

  it('attach (TUI): "the VM NAME died", exit 79 — not "the last shell exited; NAME keeps running"', async () => {
    const vm = await startNamedVm('lostvm');
    named.push(vm);
    const dir = join(ghostPaths().vmsDir, vm.name);
    newPane(`attach ${vm.name}`);
    await pane.waitFor(
      (s) => s.includes('root@ghost') && s.includes(vm.name),
      'the guest prompt and the status line',
      60_000,
    );
    pane.type('echo attached-ready');
    await pane.waitFor((s) => /^attached-ready\s*$/m.test(s), 'the shell to answer');
    // Through the supervisor too, a process count that cannot be had asks rather than stops the VM.
    pane.type('mv "$(command -v ps)" /root/ps.off && echo ps-moved');
    await pane.waitFor((s) => /^ps-moved\s*$/m.test(s), 'ps to be moved away');
    pane.tmux('send-keys', '-t', pane.target, 'C-]', 'q');
    await pane.waitFor(
      (s) => s.includes('could not check for running programs — quit and destroy the VM? (y/n)'),
      'the quit question',
      20_000,
    );
    pane.tmux('send-keys', '-t', pane.target, 'n');
    const pid = killVmm(dir);
    const screen = await pane.waitFor((s) => s.includes('CLI-EXIT='), 'attach to end after the VM was killed', 30_000);
    expect(screen).toContain(`CLI-EXIT=${EXIT_VM_LOST}`);
    expect(screen).toContain(
      `virtualghost: error: the VM ${vm.name} died: its qemu process exited unexpectedly (killed by SIGKILL)`,
    );
    expect(screen).not.toContain('keeps running');
    // The supervisor cleans up as for a stopped VM: it is gone, with its VMM and per-VM dir.
    expect(processAlive(pid)).toBe(false);
    expect(await eventually(() => !existsSync(dir), 15_000)).toBe(true);
    const ps = await runCli(['ps', '--json']);
    expect(JSON.parse(ps.stdout.toString())).toEqual([]);
  });

  it('attach --raw and exec NAME, at once: both say the VM died and exit 79', async () => {
    const vm = await startNamedVm('lostraw');
    named.push(vm);
    const dir = join(ghostPaths().vmsDir, vm.name);
    // A client whose stdin stays open (a person at a pipe), so that only the VM's death can end it.
    const attach = spawn(process.execPath, [BIN, 'attach', vm.name, '--raw'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const exec = spawn(process.execPath, [BIN, 'exec', vm.name, '--', 'sh', '-c', 'echo exec-started; sleep 120'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (
      child: typeof attach | typeof exec,
    ): { out: () => string; done: Promise<{ code: number | null; stderr: string }> } => {
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      return {
        out: () => stdout,
        done: new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr }))),
      };
    };
    const attached = collect(attach);
    const execd = collect(exec);
    try {
      attach.stdin.write('echo raw-attached-$((6*7))\n');
      expect(
        await eventually(
          () => execd.out().includes('exec-started') && attached.out().includes('raw-attached-42'),
          30_000,
        ),
        `attach said: ${attached.out()}`,
      ).toBe(true);
      killVmm(dir);
      const [a, e] = await Promise.all([attached.done, execd.done]);
      expect(a.code, a.stderr).toBe(EXIT_VM_LOST);
      expect(a.stderr).toContain(
        `virtualghost: error: the VM ${vm.name} died: its qemu process exited unexpectedly (killed by SIGKILL)`,
      );
      expect(e.code, e.stderr).toBe(EXIT_VM_LOST);
      expect(e.stderr).toContain(`virtualghost: error: the VM ${vm.name} died during the command`);
    } finally {
      attach.kill('SIGTERM');
      exec.kill('SIGTERM');
    }
    expect(await eventually(() => !existsSync(dir), 15_000)).toBe(true);
  });
});
