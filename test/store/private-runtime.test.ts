/**
 * Another local user must not be able to plant or swap per-VM dirs: the runtime base and vms/ are checked
 * on every use (owner, mode, no symlink), and a foreign or loose one is refused with exit 77.
 */
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findVm, listVms } from '../../src/host/supervisor/registry.js';
import { cleanStaleVms } from '../../src/host/store/clean.js';
import { createInstanceDir } from '../../src/host/store/instance-dir.js';
import { ghostPaths } from '../../src/host/store/paths.js';
import { identify, isAlive, writeOwner } from '../../src/host/store/process-identity.js';
import { runCli } from '../helpers/cli.js';

const made: string[] = [];
afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** An XDG_RUNTIME_DIR whose virtualghost/vms/v3 exists, with the base set up by `prepare`. */
function runtime(prepare: (base: string) => void): NodeJS.ProcessEnv {
  const root = mkdtempSync(join(tmpdir(), 'vg-private-'));
  made.push(root);
  prepare(join(root, 'virtualghost'));
  return { ...process.env, XDG_RUNTIME_DIR: root, XDG_STATE_HOME: join(root, 'state') };
}

function plantedVm(base: string): void {
  mkdirSync(join(base, 'vms', 'v3'), { recursive: true, mode: 0o700 });
}

describe('runtime dirs of another user are refused', () => {
  it('a world-writable base (the /tmp fallback attack) is refused by ps and exec with exit 77', async () => {
    const env = runtime((base) => {
      plantedVm(base);
      chmodSync(base, 0o777);
    });
    expect(() => listVms(ghostPaths(env))).toThrow(/accessible to other users \(mode 777\)/);
    expect(() => findVm(ghostPaths(env), 'v3')).toThrow(expect.objectContaining({ code: 'STORE_UNSAFE_DIR' }));
    const ps = await runCli(['ps'], { env });
    expect(ps.code).toBe(77);
    expect(ps.stderr).toMatch(/virtualghost is accessible to other users/);
    const exec = await runCli(['exec', 'v3', '--', 'true'], { env });
    expect(exec.code).toBe(77);
  });

  it('a base owned by another uid is refused', () => {
    const env = runtime((base) => {
      plantedVm(base);
      chownSync(base, 65534, 65534);
    });
    expect(() => findVm(ghostPaths(env), 'v3')).toThrow(/not a directory owned by uid/);
  });

  it('a symlinked base is not followed', () => {
    const env = runtime((base) => {
      const elsewhere = mkdtempSync(join(tmpdir(), 'vg-elsewhere-'));
      made.push(elsewhere);
      plantedVm(elsewhere);
      symlinkSync(elsewhere, base);
    });
    expect(() => listVms(ghostPaths(env))).toThrow(/is a symbolic link/);
  });

  it('a loose per-VM dir is refused, a private tree is accepted', () => {
    const env = runtime((base) => plantedVm(base));
    expect(findVm(ghostPaths(env), 'v3')?.state).toBe('dead');
    chmodSync(join(env['XDG_RUNTIME_DIR'] ?? '', 'virtualghost', 'vms', 'v3'), 0o755);
    expect(() => findVm(ghostPaths(env), 'v3')).toThrow(/v3 is accessible to other users/);
  });
});

describe('commands that create or delete check the tree first', () => {
  it('clean refuses a vms/ symlinked elsewhere instead of deleting what it points at', async () => {
    const victim = mkdtempSync(join(tmpdir(), 'vg-victim-'));
    made.push(victim);
    mkdirSync(join(victim, 'project'));
    const env = runtime((base) => {
      mkdirSync(base, { mode: 0o700 });
      symlinkSync(victim, join(base, 'vms'));
    });
    await expect(cleanStaleVms(ghostPaths(env).vmsDir)).rejects.toThrow(/vms is a symbolic link/);
    expect(readdirSync(victim)).toEqual(['project']);
  });

  it('a throw-away VM refuses a loose base before creating vms/ in it', () => {
    let base = '';
    const env = runtime((b) => {
      base = b;
      mkdirSync(b, { mode: 0o700 });
      chmodSync(b, 0o777);
    });
    expect(() => createInstanceDir(ghostPaths(env).vmsDir, 'v3')).toThrow(/accessible to other users \(mode 777\)/);
    expect(readdirSync(base)).toEqual([]);
  });
});

describe('stop signals only a VirtualGhost process', () => {
  it('a planted owner.json naming an unrelated process of ours does not get it killed', async () => {
    const sleeper = spawn('sleep', ['1000'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 100));
      const id = identify(sleeper.pid ?? -1);
      expect(id).toBeDefined();
      const env = runtime((base) => plantedVm(base));
      const vmDir = join(env['XDG_RUNTIME_DIR'] ?? '', 'virtualghost', 'vms', 'v3');
      if (id) writeOwner(join(vmDir, 'owner.json'), { host: id, backend: 'qemu', createdAt: new Date().toISOString() });
      const stop = await runCli(['stop', 'v3'], { env });
      expect(stop.code).toBe(72);
      expect(stop.stderr).toMatch(/not a VirtualGhost process \(sleep 1000\)/);
      expect(isAlive(id)).toBe(true);
    } finally {
      sleeper.kill('SIGKILL');
    }
  });
});
