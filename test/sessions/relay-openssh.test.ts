/**
 * A named VM reached the way users reach one, with real OpenSSH tools through `ssh-config` + `proxy`
 * (each its own SSH connection over the VM's SSH relay and pool): ssh output and exit status, two
 * connections at once, scp and sftp byte-exact both ways, rsync -e, and a wrong host key refused.
 * One VM for the file; the last test stops it and checks that nothing is left.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateClientKey } from '../../src/host/ssh/keys.js';
import { findNamedVm, hostAlias, namedVmFiles } from '../../src/host/store/named-vm-files.js';
import { ghostPaths } from '../../src/host/store/paths.js';
import { runCli } from '../helpers/cli.js';
import { eventually, processAlive } from '../helpers/cli-child.js';
import { startNamedVm, writeSshConfig, type NamedVm } from '../helpers/named-vm.js';
import { runTool, said } from '../helpers/run-tool.js';

const NAME = `relay-${randomBytes(2).toString('hex')}`;
const ALIAS = hostAlias(NAME);
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const local = mkdtempSync(join(tmpdir(), 'vg-relay-ssh-'));
const configFile = join(local, 'ssh_config');
// BatchMode: any prompt (password, unknown host key) fails the command instead of waiting for a person.
const ssh = (args: string[], stdin?: string) =>
  runTool('ssh', ['-F', configFile, '-o', 'BatchMode=yes', ALIAS, ...args], stdin !== undefined ? { stdin } : {});

let vm: NamedVm | undefined;

/** Our `virtualghost proxy NAME` processes (ProxyCommand children of the ssh commands above). */
function proxyPids(): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
        return argv.includes('proxy') && argv.includes(NAME) && processAlive(Number(p));
      } catch {
        return false;
      }
    })
    .map(Number);
}

beforeAll(async () => {
  vm = await startNamedVm(NAME);
  await writeSshConfig(NAME, configFile);
});
afterAll(async () => {
  await vm?.stop();
  rmSync(local, { recursive: true, force: true });
});

describe('ssh-config', () => {
  it('prints a Host block with the per-VM key, the pinned host key and strict checking', () => {
    const text = readFileSync(configFile, 'utf8');
    const files = findNamedVm(ghostPaths(), NAME);
    expect(text).toMatch(new RegExp(`^Host ${ALIAS}$`, 'm'));
    expect(text).toContain(`IdentityFile "${files.clientKey}"`);
    expect(text).toContain(`UserKnownHostsFile "${files.knownHosts}"`);
    expect(text).toMatch(/^ {2}StrictHostKeyChecking yes$/m);
    expect(text).toMatch(/^ {2}IdentitiesOnly yes$/m);
    expect(text).toMatch(
      new RegExp(`^ {2}ProxyCommand ${process.execPath} /\\S+/bin/virtualghost\\.js proxy ${NAME}$`, 'm'),
    );
  });

  it('without NAME lists every running named VM', async () => {
    const r = await runCli(['ssh-config']);
    expect(r.code, said(r)).toBe(0);
    expect(r.stdout.toString()).toContain(`Host ${ALIAS}\n`);
  });

  it('keeps the per-VM files private: relay socket, key and known_hosts are 0600 in a 0700 dir', () => {
    const files = findNamedVm(ghostPaths(), NAME);
    expect(lstatSync(files.relaySocket).isSocket()).toBe(true);
    for (const f of [files.relaySocket, files.clientKey, files.clientPublicKey, files.knownHosts])
      expect((lstatSync(f).mode & 0o777).toString(8), f).toBe('600');
    expect((lstatSync(files.dir).mode & 0o777).toString(8)).toBe('700');
    expect(readFileSync(files.knownHosts, 'utf8')).toMatch(new RegExp(`^${ALIAS} ssh-ed25519 [A-Za-z0-9+/=]+\\n$`));
  });
});

describe('OpenSSH through the relay', () => {
  it('ssh runs a command: its output and its exit status', async () => {
    const r = await ssh(['echo out-$((6*7)); echo err-$((6*8)) >&2; exit 5']);
    expect(r.code, said(r)).toBe(5);
    expect(r.stdout.toString()).toBe('out-42\n');
    expect(r.stderr).toContain('err-48');
    expect(r.stderr).not.toMatch(/warning|Permanently added/i);
  });

  it('two ssh connections at once, each its own (the first waits on the second)', async () => {
    // The first reads a line that only the second one writes: both must be open at the same time.
    const fifo = `/tmp/relay-fifo-${randomBytes(3).toString('hex')}`;
    const made = await ssh([`mkfifo ${fifo}`]);
    expect(made.code, said(made)).toBe(0);
    const first = ssh([`read line < ${fifo}; echo first-got-$line`]);
    await new Promise((r) => setTimeout(r, 500));
    const second = await ssh([`echo from-second-$((2+3)) > ${fifo}; echo second-done`]);
    const firstResult = await first;
    expect(second.code, said(second)).toBe(0);
    expect(second.stdout.toString()).toBe('second-done\n');
    expect(firstResult.code, said(firstResult)).toBe(0);
    expect(firstResult.stdout.toString()).toBe('first-got-from-second-5\n');
  });

  it('scp copies a few MB of random bytes up and back, byte-exact', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    writeFileSync(join(local, 'up.bin'), data);
    const up = await runTool('scp', [
      '-F',
      configFile,
      '-o',
      'BatchMode=yes',
      '-q',
      join(local, 'up.bin'),
      `${ALIAS}:/tmp/scp-up.bin`,
    ]);
    expect(up.code, said(up)).toBe(0);
    const sum = await ssh(['sha256sum /tmp/scp-up.bin']);
    expect(sum.stdout.toString().split(' ')[0]).toBe(sha256(data));
    const down = await runTool('scp', [
      '-F',
      configFile,
      '-o',
      'BatchMode=yes',
      '-q',
      `${ALIAS}:/tmp/scp-up.bin`,
      join(local, 'down.bin'),
    ]);
    expect(down.code, said(down)).toBe(0);
    expect(readFileSync(join(local, 'down.bin')).equals(data)).toBe(true);
  });

  it('sftp puts and gets a few MB of random bytes, byte-exact (the guest makes the download)', async () => {
    const data = randomBytes(2 * 1024 * 1024 + 5);
    writeFileSync(join(local, 'sftp-up.bin'), data);
    const made = await ssh(['head -c 3000000 /dev/urandom > /tmp/sftp-made.bin && sha256sum /tmp/sftp-made.bin']);
    expect(made.code, said(made)).toBe(0);
    const batch = [
      `put ${join(local, 'sftp-up.bin')} /tmp/sftp-up.bin`,
      `get /tmp/sftp-made.bin ${join(local, 'sftp-made.bin')}`,
      'bye',
      '',
    ].join('\n');
    const r = await runTool('sftp', ['-F', configFile, '-o', 'BatchMode=yes', '-b', '-', ALIAS], { stdin: batch });
    expect(r.code, said(r)).toBe(0);
    const sum = await ssh(['sha256sum /tmp/sftp-up.bin']);
    expect(sum.stdout.toString().split(' ')[0]).toBe(sha256(data));
    const got = readFileSync(join(local, 'sftp-made.bin'));
    expect(got.length).toBe(3_000_000);
    expect(sha256(got)).toBe(made.stdout.toString().split(' ')[0]);
  });

  it('rsync -e "ssh -F …" copies a tree into the guest and back', async () => {
    const tree = join(local, 'rs');
    mkdirSync(join(tree, 'sub'), { recursive: true });
    const a = randomBytes(100_000);
    writeFileSync(join(tree, 'a.bin'), a);
    writeFileSync(join(tree, 'sub', 'b.txt'), 'bee\n');
    const e = `ssh -F ${configFile} -o BatchMode=yes`;
    const up = await runTool('rsync', ['-a', '-e', e, `${tree}/`, `${ALIAS}:/tmp/rs/`]);
    expect(up.code, said(up)).toBe(0);
    const check = await ssh(['sha256sum /tmp/rs/a.bin; cat /tmp/rs/sub/b.txt']);
    expect(check.stdout.toString()).toBe(`${sha256(a)}  /tmp/rs/a.bin\nbee\n`);
    const down = await runTool('rsync', ['-a', '-e', e, `${ALIAS}:/tmp/rs/`, join(local, 'rs-back/')]);
    expect(down.code, said(down)).toBe(0);
    expect(readFileSync(join(local, 'rs-back', 'a.bin')).equals(a)).toBe(true);
    expect(readFileSync(join(local, 'rs-back', 'sub', 'b.txt'), 'utf8')).toBe('bee\n');
  });

  it('refuses a host key other than the pinned one (OpenSSH, StrictHostKeyChecking yes)', async () => {
    const files = findNamedVm(ghostPaths(), NAME);
    const wrong = join(local, 'known_hosts_wrong');
    writeFileSync(wrong, `${ALIAS} ${generateClientKey().publicOpenSsh}\n`, { mode: 0o600 });
    const cfg = readFileSync(configFile, 'utf8').replace(
      `UserKnownHostsFile "${files.knownHosts}"`,
      `UserKnownHostsFile "${wrong}"`,
    );
    expect(cfg).toContain(wrong);
    const wrongConfig = join(local, 'ssh_config_wrong');
    writeFileSync(wrongConfig, cfg, { mode: 0o600 });
    const r = await runTool('ssh', ['-F', wrongConfig, '-o', 'BatchMode=yes', ALIAS, 'echo should-not-run']);
    expect(r.code, said(r)).toBe(255);
    expect(r.stdout.toString()).not.toContain('should-not-run');
    expect(r.stderr).toMatch(/host key|Host key verification failed/i);
    // And the right one still works afterwards (the refused connection gave its pool stream back).
    const ok = await ssh(['echo still-$((1+1))']);
    expect(ok.stdout.toString()).toBe('still-2\n');
  });
});

describe('stop', () => {
  it('ends open ssh sessions and their proxies, and leaves nothing behind: no per-VM dir, socket, key or known_hosts', async () => {
    const files = namedVmFiles(join(ghostPaths().vmsDir, NAME), NAME);
    expect(existsSync(files.relaySocket)).toBe(true);
    // A session still open when the VM stops: it must end, and its `virtualghost proxy` with it.
    const open = ssh(['echo started; sleep 600']);
    expect(await eventually(() => proxyPids().length === 1, 30_000), 'a proxy process runs for the open session').toBe(
      true,
    );
    await new Promise((r) => setTimeout(r, 1500));
    await vm?.stop();
    const ended = await open;
    expect(ended.code, said(ended)).toBe(255);
    expect(ended.stdout.toString()).toBe('started\n');
    expect(
      await eventually(() => proxyPids().length === 0, 10_000),
      `proxy processes left: ${proxyPids().join(' ')}`,
    ).toBe(true);
    for (const f of [files.relaySocket, files.clientKey, files.knownHosts, files.dir])
      expect(existsSync(f), f).toBe(false);
    expect(readdirSync(ghostPaths().vmsDir).filter((n) => n.startsWith(NAME))).toEqual([]);
    const r = await runTool('ssh', ['-F', configFile, '-o', 'BatchMode=yes', ALIAS, 'true']);
    expect(r.code).toBe(255);
    expect(r.stderr).toContain(`there is no VM named ${NAME}`);
  });
});
