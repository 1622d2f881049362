/**
 * Each class of failure has one documented exit code, whichever verb meets it (README "Exit codes"):
 * an invalid VM name is bad command-line input (64) on every verb that takes a NAME; a named VM that is
 * not running — stopped, or dead with its supervisor SIGKILLed and its sockets left behind — is 68 on
 * `exec`, `attach`, `cp`, `proxy` and `ssh-config` alike; a prefix key the TUI cannot use is an invalid
 * config (65), found when the config is read, before any VM boots.
 * No VM is booted: the dead VM is what a SIGKILLed supervisor leaves (a per-VM dir whose owner is gone,
 * with its stale sockets), made by a real process that listened on them and was SIGKILLed.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../src/host/cli/exit-codes.js';
import { identify, isAlive, writeOwner } from '../../src/host/store/process-identity.js';
import { runCli } from '../helpers/cli.js';
import { said } from '../helpers/run-tool.js';

const root = mkdtempSync(join(tmpdir(), 'vg-exit-classes-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const env: NodeJS.ProcessEnv = {
  XDG_RUNTIME_DIR: join(root, 'run'),
  XDG_STATE_HOME: join(root, 'state'),
  XDG_CONFIG_HOME: join(root, 'config'),
};
mkdirSync(join(root, 'run'), { mode: 0o700 });
const vmsDir = join(root, 'run', 'virtualghost', 'vms');

/** Every verb that takes a VM name, with that name in its place. */
const verbsWithName = (name: string): string[][] => [
  ['run', name],
  ['run', name, '--detach'],
  ['exec', name, '--', 'true'],
  ['attach', name],
  ['stop', name],
  ['rm', name],
  ['logs', name],
  ['cp', `${name}:/etc/hostname`, join(root, 'out')],
  ['cp', join(root, 'in'), `${name}:/root/`],
  ['ssh-config', name],
  ['proxy', name],
];

describe('an invalid VM name is bad command-line input: 64 on every verb', () => {
  for (const name of ['bad/name', '../escape', 'x'.repeat(41), 'Caf\u00e9']) {
    it(`${JSON.stringify(name)}`, async () => {
      for (const argv of verbsWithName(name)) {
        const r = await runCli(argv, { env });
        expect(r.code, `${argv.join(' ')}: ${said(r)}`).toBe(EXIT_CODES.USAGE.code);
        // cp takes `NAME:` only where NAME could be one; anything else is a local path, and then no side is a VM.
        expect(r.stderr, argv.join(' ')).toMatch(
          argv[0] === 'cp' ? /cp needs a VM on one side/ : /invalid VM name .*use 1–40 letters/,
        );
      }
      expect(existsSync(vmsDir) ? readdirSync(vmsDir) : []).toEqual([]);
    });
  }
});

/** What `kill -9` of a named VM's supervisor leaves: its dir, records and sockets, owned by a dead process. */
async function plantDeadVm(name: string): Promise<void> {
  const dir = join(vmsDir, name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const script = `const net = require('net'); let n = 0; for (const s of ['ssh.sock', 'supervisor.sock']) net.createServer().listen(require('path').join(${JSON.stringify(dir)}, s), () => { if (++n === 2) console.log('listening'); });`;
  const holder = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
  const id = identify(holder.pid ?? -1);
  if (!id) throw new Error('cannot identify the socket holder');
  writeOwner(join(dir, 'owner.json'), { host: id, backend: 'qemu', createdAt: new Date().toISOString() });
  writeFileSync(
    join(dir, 'vm.json'),
    JSON.stringify({
      name,
      backend: 'qemu',
      accel: 'tcg',
      vcpus: 1,
      memoryMiB: 512,
      imageId: 'x',
      startedAt: Date.now(),
      readyMs: 1,
      supervised: true,
    }),
  );
  writeFileSync(
    join(dir, 'known_hosts'),
    `virtualghost-${name} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDeadDeadDeadDeadDeadDeadDeadDeadDeadDeadDeadDead\n`,
    { mode: 0o600 },
  );
  writeFileSync(join(dir, 'client_ed25519'), 'not a key\n', { mode: 0o600 });
  holder.kill('SIGKILL');
  await new Promise((r) => holder.once('exit', r));
  expect(isAlive(id)).toBe(false);
  expect(existsSync(join(dir, 'ssh.sock'))).toBe(true); // SIGKILL leaves the socket files
}

describe('a dead named VM is "not running": 68 on every verb that needs it running', () => {
  it('exec, attach, cp, proxy and ssh-config NAME all exit 68 and say it is dead; ssh-config lists it nowhere', async () => {
    await plantDeadVm('deadvm');
    const ps = await runCli(['ps', '--json'], { env });
    expect(JSON.parse(ps.stdout.toString())).toEqual([expect.objectContaining({ name: 'deadvm', state: 'dead' })]);
    for (const argv of [
      ['exec', 'deadvm', '--', 'true'],
      ['attach', 'deadvm'],
      ['attach', 'deadvm', '--raw'],
      ['cp', 'deadvm:/etc/hostname', join(root, 'out')],
      ['proxy', 'deadvm'],
      ['ssh-config', 'deadvm'],
    ]) {
      const r = await runCli(argv, { env });
      expect(r.code, `${argv.join(' ')}: ${said(r)}`).toBe(EXIT_CODES.NO_SUCH_VM.code);
      expect(r.stderr, argv.join(' ')).toMatch(
        /deadvm (is not running: its supervisor is gone|died \(its supervisor is gone\)).*virtualghost clean/,
      );
    }
    const all = await runCli(['ssh-config'], { env });
    expect(all.code, said(all)).toBe(0);
    expect(all.stdout.toString()).not.toContain('deadvm');
    // The leftovers are still there for `clean` (nothing above removed or touched them).
    const clean = await runCli(['clean'], { env });
    expect(clean.stdout.toString()).toContain('removed deadvm');
  });
});

describe('tui.prefix is checked when the config is read', () => {
  it('"C-[" (Escape) in config.toml: run, attach and config get exit 65 naming the file and the key, before any VM boots', async () => {
    mkdirSync(join(root, 'config', 'virtualghost'), { recursive: true });
    writeFileSync(join(root, 'config', 'virtualghost', 'config.toml'), '[tui]\nprefix = "C-["\n');
    try {
      for (const argv of [['run'], ['run', 'pfx', '--detach'], ['attach', 'pfx'], ['config', 'get', 'tui.prefix']]) {
        const started = Date.now();
        const r = await runCli(argv, { env });
        expect(r.code, `${argv.join(' ')}: ${said(r)}`).toBe(EXIT_CODES.CONFIG.code);
        expect(r.stderr).toMatch(
          /config\.toml:2:\d+: `tui\.prefix` must be prefix key for TUI commands; got "C-\[" \(prefix key "C-\[" is Escape/,
        );
        expect(Date.now() - started, 'refused before a VM could boot').toBeLessThan(15_000);
      }
      expect(existsSync(vmsDir) ? readdirSync(vmsDir) : []).toEqual([]);
    } finally {
      rmSync(join(root, 'config', 'virtualghost', 'config.toml'));
    }
  });

  it('the environment and `config set` are checked the same way', async () => {
    const viaEnv = await runCli(['run'], { env: { ...env, VIRTUALGHOST_TUI__PREFIX: 'C-[' } });
    expect(viaEnv.code, said(viaEnv)).toBe(EXIT_CODES.CONFIG.code);
    expect(viaEnv.stderr).toMatch(/VIRTUALGHOST_TUI__PREFIX: `tui\.prefix` .* is Escape/);
    const set = await runCli(['config', 'set', 'tui.prefix', 'C-['], { env });
    expect(set.code, said(set)).toBe(EXIT_CODES.CONFIG.code);
    expect(existsSync(join(root, 'config', 'virtualghost', 'config.toml'))).toBe(false);
    const ok = await runCli(['config', 'set', 'tui.prefix', 'C-b'], { env });
    expect(ok.code, said(ok)).toBe(0);
  });
});
