/**
 * The standby pool, with real QEMU VMs and the real CLI: one pool (size 1) for the whole file, claimed
 * through `exec` (the CLI) and through the session API (to hold a claimed VM's keys), killed, stopped and
 * made stale. Each claim costs a refill (a clone restore + warm-up), so the checks share claims.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/host/config/load.js';
import { poolPaths, POOL_CLONE_PREFIX } from '../../src/host/pool/files.js';
import type { PoolStatus } from '../../src/host/pool/pool-protocol.js';
import { VmSession } from '../../src/host/session.js';
import { connectSsh } from '../../src/host/ssh/client.js';
import { generateClientKey, type ClientKey } from '../../src/host/ssh/keys.js';
import { ghostPaths } from '../../src/host/store/paths.js';
import { OWNER_FILE, isAlive, readOwner, type ProcessIdentity } from '../../src/host/store/process-identity.js';
import { runCli } from '../helpers/cli.js';
import { said } from '../helpers/run-tool.js';
import { sshExec } from '../helpers/ssh.js';

const paths = ghostPaths();
const pool = poolPaths(paths);
const LONG = 400_000;

async function status(): Promise<PoolStatus> {
  const r = await runCli(['pool', 'status', '--json']);
  expect(r.code, said(r)).toBe(0);
  return JSON.parse(r.stdout.toString()) as PoolStatus;
}

/** Until the pool has `n` ready clones (a refill after a claim takes a few seconds under TCG). */
async function untilReady(n = 1): Promise<PoolStatus> {
  for (let i = 0; i < 240; i++) {
    const s = await status();
    if (s.clones.filter((c) => c.state === 'ready').length >= n) return s;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('the pool never refilled');
}

async function startPool(): Promise<PoolStatus> {
  const r = await runCli(['pool', 'start', '--size', '1', '--idle', '10m'], { timeoutMs: 350_000 });
  expect(r.code, said(r)).toBe(0);
  return await status();
}

/** Every process whose command line names this test run's runtime dir (VMMs, NATs, keepers, the pool). */
function ourProcesses(): string[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(paths.runtimeDir) && !l.includes('ps -eo'));
}

const cloneDirs = (): string[] =>
  existsSync(paths.vmsDir) ? readdirSync(paths.vmsDir).filter((n) => n.startsWith(POOL_CLONE_PREFIX)) : [];

async function gone(id: ProcessIdentity | undefined, ms = 10_000): Promise<boolean> {
  for (let t = 0; t < ms && isAlive(id); t += 100) await new Promise((r) => setTimeout(r, 100));
  return !isAlive(id);
}

/**
 * A claim through the session API: with a client key of ours, so the test can try keys against it, or
 * without (the claim then attaches to the session the clone's keeper offered for it).
 */
async function claim(key?: ClientKey, onMark?: (label: string) => void): Promise<VmSession> {
  const config = loadConfig(paths.configFile, process.env, {});
  return await VmSession.start({
    config,
    paths,
    signal: new AbortController().signal,
    ...(key ? { clientKey: key } : {}),
    ...(onMark ? { onMark: (m: { label: string }) => onMark(m.label) } : {}),
  });
}

/** An SSH login to a claimed VM over one of its pool streams (its own SSH connection), with `key`. */
async function loginWith(vm: VmSession, stream: number, key: ClientKey): ReturnType<typeof connectSsh> {
  return await connectSsh({
    sock: await vm.driver
      .sshPool()
      .channel(stream)
      .connect({ signal: AbortSignal.timeout(20_000), timeoutMs: 20_000 }),
    privateKey: key.privateKey,
    pinnedHostKey: vm.hostKey!,
    timeoutMs: 20_000,
  });
}

const FRESH_PROBE =
  'cat /root/marker 2>/dev/null || echo no-marker; echo claimed > /root/marker; ls -A /root | tr "\\n" " "; echo; head -c 32 /dev/urandom | od -An -tx1 | tr -d " \\n"; echo';

describe('standby pool', () => {
  beforeAll(async () => {
    await startPool();
  }, LONG);

  afterAll(async () => {
    await runCli(['pool', 'stop']);
  });

  it(
    'hands out fresh VMs: no marker from the last claim, no trace of its own warm-up, new entropy',
    async () => {
      const first = await runCli(['exec', '--', 'sh', '-c', FRESH_PROBE]);
      expect(first.code, said(first)).toBe(0);
      const [marker1, files1, random1] = first.stdout.toString().trim().split('\n');
      expect(marker1).toBe('no-marker');
      // The pool's own SSH login left no shell history or files: only the image's dotfiles (and our marker).
      expect(files1?.trim().split(' ').sort()).toEqual(['.bashrc', '.profile', 'marker']);
      expect((await status()).claims).toBe(1); // it was the pool's VM, not a fresh start

      await untilReady();
      const second = await runCli(['exec', '--', 'sh', '-c', FRESH_PROBE]);
      expect(second.code, said(second)).toBe(0);
      const [marker2, , random2] = second.stdout.toString().trim().split('\n');
      expect(marker2).toBe('no-marker'); // the first claim's file is not in the second claim's VM
      expect(random2).toMatch(/^[0-9a-f]{64}$/);
      expect(random2).not.toBe(random1);
      expect((await status()).claims).toBe(2);
    },
    LONG,
  );

  it(
    "a claim without a key of its own attaches to the session its keeper offered: keys made for that claim alone, which the next claim's VM refuses",
    async () => {
      await untilReady();
      const marksA: string[] = [];
      const a = await claim(undefined, (label) => marksA.push(label));
      let b: VmSession | undefined;
      try {
        expect(a.restoredFrom).toBeDefined();
        // Attached, not offered: the guest had nothing to apply for this claim.
        expect(marksA).toContain('session attach sent');
        expect(marksA).not.toContain('session offered');
        const keyA = a.clientKey!;
        expect((await sshExec(a.ssh!, 'cat /run/ghostly/authorized_key')).stdout.toString().trim()).toBe(
          keyA.publicOpenSsh,
        );
        await untilReady();
        b = await claim();
        const keyB = b.clientKey!;
        expect(keyB.publicOpenSsh).not.toBe(keyA.publicOpenSsh);
        expect(b.hostKey).not.toBe(a.hostKey);
        const refused = loginWith(b, 0, keyA);
        await expect(refused).rejects.toThrow(/auth/i);
        // The session's stats flow on the attached control stream (the status line's cpu and memory).
        await expect.poll(() => a.control?.lastStats, { timeout: 10_000 }).toBeDefined();
      } finally {
        await a.close();
        await b?.close();
      }
    },
    LONG,
  );

  it(
    "gives each claim its own keys: the guest knows only the claimer's client key, a host key of its own, and refuses the other claim's key",
    async () => {
      await untilReady();
      const keyA = generateClientKey();
      const a = await claim(keyA);
      let b: VmSession | undefined;
      try {
        expect(a.restoredFrom).toBeDefined();
        const authorized = await sshExec(a.ssh!, 'cat /run/ghostly/authorized_key');
        expect(authorized.stdout.toString().trim()).toBe(keyA.publicOpenSsh);
        await untilReady();
        const keyB = generateClientKey();
        b = await claim(keyB);
        expect((await status()).claims).toBe(6);
        expect(b.hostKey).toBeDefined();
        expect(b.hostKey).not.toBe(a.hostKey);
        // B's VM refuses A's key, and takes B's (over another of its SSH streams).
        const refused = loginWith(b, 0, keyA);
        await expect(refused).rejects.toThrow(/auth/i);
        const accepted = await loginWith(b, 1, keyB);
        expect((await sshExec(accepted, 'echo ok')).stdout.toString()).toBe('ok\n');
        accepted.end();
      } finally {
        await a.close();
        await b?.close();
      }
    },
    LONG,
  );

  it(
    'ends a claimed VM with its claimer, even when the claimer is SIGKILLed',
    async () => {
      await untilReady();
      const child = spawn(
        process.execPath,
        [join(__dirname, '../../bin/virtualghost.js'), 'exec', '--', 'sleep', '600'],
        {
          stdio: 'ignore',
        },
      );
      let owner: ReturnType<typeof readOwner>;
      for (let i = 0; i < 200 && !owner?.vmm; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const run = existsSync(paths.vmsDir) ? readdirSync(paths.vmsDir).find((n) => n.startsWith('run-')) : undefined;
        owner = run ? readOwner(join(paths.vmsDir, run, OWNER_FILE)) : undefined;
        if (owner?.host.pid !== child.pid) owner = undefined;
      }
      expect(owner?.vmm, 'the exec never claimed a VM').toBeDefined();
      expect(owner?.origin).toMatch(new RegExp(`/${POOL_CLONE_PREFIX}[0-9a-f]+$`)); // it was a pooled clone
      expect(isAlive(owner?.vmm)).toBe(true);
      child.kill('SIGKILL');
      expect(await gone(owner?.vmm)).toBe(true);
      for (const h of owner?.helpers ?? []) expect(await gone(h)).toBe(true); // its keeper too
      const r = await runCli(['clean']);
      expect(r.code, said(r)).toBe(0);
    },
    LONG,
  );

  it(
    'run NAME takes a pooled VM too (its supervisor holds it), and --no-pool starts one of its own',
    async () => {
      await untilReady();
      const before = (await status()).claims;
      const run = await runCli(['run', '-d', 'pooled-dev']);
      expect(run.code, said(run)).toBe(0);
      // Taken, not tried and given up on: its supervisor brings the VM's own key, so it offers a session of
      // its own, and must not meet the keeper's session on an SSH stream opened too early.
      expect(run.stderr.toString()).not.toMatch(/did not answer|could not hand over/);
      try {
        expect((await status()).claims).toBe(before + 1);
        const owner = readOwner(join(paths.vmsDir, 'pooled-dev', OWNER_FILE));
        expect(owner?.origin).toMatch(new RegExp(`/${POOL_CLONE_PREFIX}[0-9a-f]+$`));
        // Reached through its supervisor's relay, on the renamed dir's sockets.
        const e = await runCli(['exec', 'pooled-dev', '--', 'cat', '/run/ghostly/authorized_key']);
        expect(e.code, said(e)).toBe(0);
        expect(e.stdout.toString()).toMatch(/^ssh-ed25519 /);
        await untilReady();
        const own = await runCli(['exec', '--no-pool', '--', 'true']);
        expect(own.code, said(own)).toBe(0);
        expect((await status()).claims).toBe(before + 1);
      } finally {
        const stop = await runCli(['stop', 'pooled-dev']);
        expect(stop.code, said(stop)).toBe(0);
      }
      expect(existsSync(join(paths.vmsDir, 'pooled-dev'))).toBe(false);
    },
    LONG,
  );

  it(
    'SIGKILL of the pool ends its unclaimed clones and nothing else: a claimed VM lives on',
    async () => {
      await untilReady();
      const key = generateClientKey();
      const claimed = await claim(key);
      try {
        const s = await untilReady();
        const clone = s.clones.find((c) => c.state === 'ready')!;
        const cloneOwner = readOwner(join(paths.vmsDir, clone.name, OWNER_FILE));
        const poolOwner = readOwner(join(pool.dir, OWNER_FILE));
        expect(cloneOwner?.vmm).toBeDefined();
        expect(poolOwner?.host.pid).toBe(s.pid);
        process.kill(s.pid, 'SIGKILL');
        expect(await gone(poolOwner?.host)).toBe(true);
        expect(await gone(cloneOwner?.vmm)).toBe(true); // the unclaimed clone's VMM
        expect(await gone(cloneOwner?.host)).toBe(true); // and its keeper
        for (let i = 0; i < 50 && cloneDirs().length; i++) await new Promise((r) => setTimeout(r, 100));
        expect(cloneDirs()).toEqual([]);
        // The claimed VM is its claimer's: still there, still answering.
        expect((await sshExec(claimed.ssh!, 'echo alive')).stdout.toString()).toBe('alive\n');
        const st = await runCli(['pool', 'status']);
        expect(st.code, said(st)).toBe(68);
        const c = await runCli(['clean']);
        expect(c.stdout.toString()).toMatch(/standby pool dir/);
        expect(existsSync(pool.dir)).toBe(false);
      } finally {
        await claimed.close();
      }
      expect(ourProcesses()).toEqual([]);
    },
    LONG,
  );

  it(
    'pool stop leaves nothing: no processes, no clone dirs, no pool dir',
    async () => {
      await startPool();
      expect(cloneDirs()).toHaveLength(1);
      const ps = await runCli(['ps']);
      expect(ps.stdout.toString()).toMatch(new RegExp(`${POOL_CLONE_PREFIX}[0-9a-f]+\\s+pooled`));
      const rows = JSON.parse((await runCli(['ps', '--json'])).stdout.toString()) as Array<{
        state: string;
        kind: string;
      }>;
      expect(rows.map((r) => [r.state, r.kind])).toEqual([['pooled', 'pooled']]);
      const r = await runCli(['pool', 'stop']);
      expect(r.code, said(r)).toBe(0);
      expect(cloneDirs()).toEqual([]);
      expect(existsSync(pool.dir)).toBe(false);
      expect(ourProcesses()).toEqual([]);
    },
    LONG,
  );

  it(
    'pool.autostart: a run starts a pool in the background for the runs after it',
    async () => {
      expect(existsSync(pool.dir)).toBe(false);
      const r = await runCli(['exec', '--', 'true'], { env: { VIRTUALGHOST_POOL__AUTOSTART: 'true' } });
      expect(r.code, said(r)).toBe(0);
      for (let i = 0; i < 100 && !existsSync(pool.socket); i++) await new Promise((res) => setTimeout(res, 100));
      expect((await untilReady()).claims).toBe(0);
      const stop = await runCli(['pool', 'stop']);
      expect(stop.code, said(stop)).toBe(0);
    },
    LONG,
  );

  it(
    'a run whose config differs (memory) ignores the pool, which stops: a stale pool is never used',
    async () => {
      await startPool();
      // A flag of the run's own is not a config change: it only misses, and the pool stays.
      const flagged = await runCli(['exec', '--memory', '640M', '--', 'true'], { timeoutMs: 350_000 });
      expect(flagged.code, said(flagged)).toBe(0);
      expect(flagged.stderr).not.toMatch(/standby pool/);
      expect((await status()).claims).toBe(0);
      // The run's own config (env) says 640M; the pool holds 512M VMs.
      const r = await runCli(['exec', '--', 'sh', '-c', 'grep MemTotal /proc/meminfo'], {
        timeoutMs: 350_000,
        env: { VIRTUALGHOST_MEMORY: '640M' },
      });
      expect(r.code, said(r)).toBe(0);
      expect(r.stderr).toMatch(/not using the standby pool: stale/);
      // 640 MiB, not the pool's 512: a VM of the new shape, started as without a pool.
      expect(Number(/(\d+) kB/.exec(r.stdout.toString())?.[1])).toBeGreaterThan(520 * 1024);
      for (let i = 0; i < 100 && (existsSync(pool.dir) || cloneDirs().length); i++)
        await new Promise((res) => setTimeout(res, 100));
      expect(existsSync(pool.dir)).toBe(false);
      expect(cloneDirs()).toEqual([]);
      expect(ourProcesses()).toEqual([]);
    },
    LONG,
  );

  it(
    'a config file change (memory) stops an idle pool by itself, before any run',
    async () => {
      await startPool();
      const set = await runCli(['config', 'set', 'memory', '640M']);
      expect(set.code, said(set)).toBe(0);
      try {
        for (let i = 0; i < 200 && (existsSync(pool.dir) || cloneDirs().length); i++)
          await new Promise((res) => setTimeout(res, 100));
        expect(existsSync(pool.dir)).toBe(false);
        expect(cloneDirs()).toEqual([]);
        expect(ourProcesses()).toEqual([]);
      } finally {
        await runCli(['config', 'unset', 'memory']);
      }
    },
    LONG,
  );

  it('refuses a bad --size or --idle before anything starts (65)', async () => {
    for (const args of [
      ['--size', '0'],
      ['--idle', 'soon'],
    ]) {
      const r = await runCli(['pool', 'start', ...args]);
      expect(r.code, said(r)).toBe(65);
      expect(r.stderr).toMatch(args[0] === '--size' ? /pool\.size/ : /pool\.idle_timeout/);
    }
    expect(existsSync(pool.dir)).toBe(false);
  });
});
