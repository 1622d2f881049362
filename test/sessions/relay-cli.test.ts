/**
 * The CLI verbs that reach a running named VM through its SSH relay: `exec NAME` (exit status, output,
 * stdin) and `cp` (directory trees with modes and mtimes both ways, errors naming the missing side).
 * One VM for the file.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
  readlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type ssh2 from 'ssh2';
import { connectNamedVm } from '../../src/host/ssh/named-vm.js';
import { ghostPaths } from '../../src/host/store/paths.js';
import { SSH_POOL_SIZE } from '../../src/shared/ports.js';
import { runCli } from '../helpers/cli.js';
import { sshExec } from '../helpers/ssh.js';
import { startNamedVm, type NamedVm } from '../helpers/named-vm.js';
import { said } from '../helpers/run-tool.js';

const NAME = `relcli-${randomBytes(2).toString('hex')}`;
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const local = mkdtempSync(join(tmpdir(), 'vg-relay-cli-'));
const exec = (argv: string[], stdin?: string) =>
  runCli(['exec', NAME, '--', ...argv], stdin !== undefined ? { stdin } : {});

let vm: NamedVm | undefined;

beforeAll(async () => {
  vm = await startNamedVm(NAME);
});
afterAll(async () => {
  await vm?.stop();
  rmSync(local, { recursive: true, force: true });
});

describe('exec NAME', () => {
  it("runs in the running VM: output, and the command's own exit status", async () => {
    const r = await exec(['sh', '-c', 'echo out-$((6*7)); echo err-$((6*8)) >&2; exit 7']);
    expect(r.code, said(r)).toBe(7);
    expect(r.stdout.toString()).toBe('out-42\n');
    expect(r.stderr).toContain('err-48');
  });

  it('state persists between execs (the same VM, not a fresh one each time)', async () => {
    const token = randomBytes(6).toString('hex');
    const w = await exec(['sh', '-c', `echo ${token} > /root/exec-token`]);
    expect(w.code, said(w)).toBe(0);
    const r = await exec(['cat', '/root/exec-token']);
    expect(r.stdout.toString()).toBe(`${token}\n`);
  });

  it('a command killed by a signal exits 128+N; stdin is piped through', async () => {
    const killed = await exec(['sh', '-c', 'kill -TERM $$']);
    expect(killed.code, said(killed)).toBe(143);
    const wc = await exec(['wc', '-l'], 'a\nb\nc\n');
    expect(wc.stdout.toString().trim()).toBe('3');
  });

  it('an unknown VM name exits 68 and points at `virtualghost ps`', async () => {
    const r = await runCli(['exec', 'no-such-vm', '--', 'true']);
    expect(r.code, said(r)).toBe(68);
    expect(r.stderr).toContain('no-such-vm');
    expect(r.stderr).toContain('virtualghost ps');
  });
});

describe('the SSH pool', () => {
  it(`serves ${SSH_POOL_SIZE} connections at once (every pool port works); one more waits until one closes`, async () => {
    const clients: ssh2.Client[] = [];
    try {
      for (let i = 0; i < SSH_POOL_SIZE; i++) clients.push(await connectNamedVm(ghostPaths(), NAME));
      // All open at once, each answering on its own connection.
      const answers = await Promise.all(clients.map((c, i) => sshExec(c, `echo conn-${i}-$((${i}*3))`)));
      answers.forEach((r, i) => expect(r.stdout.toString()).toBe(`conn-${i}-${i * 3}\n`));
      let extra: ssh2.Client | undefined;
      const waiting = connectNamedVm(ghostPaths(), NAME).then((c) => (extra = c));
      await new Promise((r) => setTimeout(r, 1500));
      expect(extra).toBeUndefined(); // all streams busy
      clients.shift()?.end();
      clients.push(await waiting);
      expect((await sshExec(clients.at(-1) as ssh2.Client, 'echo late')).stdout.toString()).toBe('late\n');
    } finally {
      for (const c of clients) c.end();
    }
  });
});

/** A small tree with distinct modes and old mtimes (whole seconds: SFTP v3 carries seconds). */
function makeTree(root: string): Map<string, { mode: number; mtime: number; data?: Buffer }> {
  const spec = new Map<string, { mode: number; mtime: number; data?: Buffer }>([
    ['', { mode: 0o750, mtime: 1_600_000_000 }],
    ['run.sh', { mode: 0o755, mtime: 1_600_000_100, data: Buffer.from('#!/bin/sh\necho hi\n') }],
    ['secret', { mode: 0o600, mtime: 1_600_000_200, data: randomBytes(5000) }],
    ['big.bin', { mode: 0o644, mtime: 1_600_000_300, data: randomBytes(3 * 1024 * 1024 + 3) }],
    ['sub', { mode: 0o711, mtime: 1_600_000_400 }],
    ['sub/deep', { mode: 0o755, mtime: 1_600_000_500 }],
    ['sub/deep/ro.txt', { mode: 0o444, mtime: 1_600_000_600, data: Buffer.from('read only\n') }],
    ['empty', { mode: 0o700, mtime: 1_600_000_700 }],
  ]);
  mkdirSync(root);
  for (const [rel, e] of spec) {
    const p = join(root, rel);
    if (e.data) writeFileSync(p, e.data);
    else if (rel !== '') mkdirSync(p);
  }
  symlinkSync('run.sh', join(root, 'link'));
  // Modes and times last, deepest first, so writing children does not move a directory's mtime.
  for (const [rel, e] of [...spec].reverse()) {
    chmodSync(join(root, rel), e.mode);
    utimesSync(join(root, rel), e.mtime, e.mtime);
  }
  return spec;
}

function expectTree(root: string, spec: ReturnType<typeof makeTree>): void {
  for (const [rel, e] of spec) {
    const st = statSync(join(root, rel));
    expect((st.mode & 0o7777).toString(8), `mode of ${rel || '.'}`).toBe(e.mode.toString(8));
    expect(Math.floor(st.mtimeMs / 1000), `mtime of ${rel || '.'}`).toBe(e.mtime);
    if (e.data) expect(readFileSync(join(root, rel)).equals(e.data), `content of ${rel}`).toBe(true);
  }
  expect(readlinkSync(join(root, 'link'))).toBe('run.sh');
  expect(readdirSync(join(root, 'empty'))).toEqual([]);
}

describe('cp', () => {
  it('copies a directory tree into the VM and back, with modes, mtimes and a symlink', async () => {
    const src = join(local, 'tree');
    const spec = makeTree(src);
    const up = await runCli(['cp', src, `${NAME}:/root/`]);
    expect(up.code, said(up)).toBe(0);
    // What the guest sees, computed there.
    const guest = await exec([
      'sh',
      '-c',
      'cd /root/tree && stat -c "%n %a %Y" . run.sh secret big.bin sub sub/deep sub/deep/ro.txt empty && sha256sum big.bin && readlink link',
    ]);
    expect(guest.code, said(guest)).toBe(0);
    const lines = guest.stdout.toString().trim().split('\n');
    for (const [rel, e] of spec) expect(lines, rel).toContain(`${rel || '.'} ${e.mode.toString(8)} ${e.mtime}`);
    expect(lines).toContain(`${sha256(spec.get('big.bin')?.data as Buffer)}  big.bin`);
    expect(lines.at(-1)).toBe('run.sh');

    const back = join(local, 'back');
    mkdirSync(back);
    const down = await runCli(['cp', `${NAME}:/root/tree`, back]);
    expect(down.code, said(down)).toBe(0);
    expectTree(join(back, 'tree'), spec);
  });

  it('copies one file to a new name both ways; a guest-made file arrives byte-exact', async () => {
    const made = await exec([
      'sh',
      '-c',
      'head -c 1234567 /dev/urandom > /tmp/made.bin && chmod 640 /tmp/made.bin && sha256sum /tmp/made.bin',
    ]);
    expect(made.code, said(made)).toBe(0);
    const dst = join(local, 'made-copy.bin');
    const r = await runCli(['cp', `${NAME}:/tmp/made.bin`, dst]);
    expect(r.code, said(r)).toBe(0);
    expect(sha256(readFileSync(dst))).toBe(made.stdout.toString().split(' ')[0]);
    expect((statSync(dst).mode & 0o777).toString(8)).toBe('640');
    const up = await runCli(['cp', dst, `${NAME}:/tmp/renamed.bin`]);
    expect(up.code, said(up)).toBe(0);
    const sum = await exec(['sha256sum', '/tmp/renamed.bin']);
    expect(sum.stdout.toString().split(' ')[0]).toBe(made.stdout.toString().split(' ')[0]);
  });

  it('names the missing side: a missing local source, a missing guest source, a missing guest directory', async () => {
    const missingLocal = join(local, 'nope');
    const a = await runCli(['cp', missingLocal, `${NAME}:/tmp/`]);
    expect(a.code, said(a)).toBe(74);
    expect(a.stderr).toContain(`local source ${missingLocal} does not exist`);
    const b = await runCli(['cp', `${NAME}:/no/such/file`, local]);
    expect(b.code, said(b)).toBe(74);
    expect(b.stderr).toContain(`remote source ${NAME}:/no/such/file does not exist`);
    writeFileSync(join(local, 'small'), 'x');
    const c = await runCli(['cp', join(local, 'small'), `${NAME}:/no/such/dir/small`]);
    expect(c.code, said(c)).toBe(74);
    expect(c.stderr).toContain(`${NAME}:/no/such/dir`);
  });

  it('rejects a copy with no VM side or two VM sides (exit 64)', async () => {
    const a = await runCli(['cp', join(local, 'x'), join(local, 'y')]);
    expect(a.code, said(a)).toBe(64);
    expect(a.stderr).toContain('NAME:/path');
    const b = await runCli(['cp', `${NAME}:/a`, `${NAME}:/b`]);
    expect(b.code, said(b)).toBe(64);
  });
});
