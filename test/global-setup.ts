/**
 * Before the suite: the agent bundle and the guest image must exist (`npm test` runs scripts/setup.mjs
 * first; this only checks). After the suite: nothing may be left behind — no VMM process started from
 * the test dirs, no per-VM dir, socket or overlay — or the run fails.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = (): string => {
  const r = process.env['VG_TEST_ROOT'];
  if (!r) throw new Error('VG_TEST_ROOT is not set (vitest.config.ts sets it)');
  return r;
};

export function setup(): void {
  for (const d of ['run', 'config', 'state']) mkdirSync(join(root(), d), { recursive: true, mode: 0o700 });
}

function leftoverVmms(r: string): string[] {
  let out = '';
  try {
    out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  } catch {
    return [];
  }
  return out.split('\n').filter((l) => /qemu-system|firecracker|passt/.test(l) && l.includes(r));
}

export async function teardown(): Promise<void> {
  const r = root();
  // Give VMs killed by the last test a moment to be reaped.
  let procs = leftoverVmms(r);
  for (let i = 0; i < 50 && procs.length > 0; i++) {
    await new Promise((res) => setTimeout(res, 100));
    procs = leftoverVmms(r);
  }
  const vmsDir = join(r, 'run', 'virtualghost', 'vms');
  const dirs = existsSync(vmsDir) ? readdirSync(vmsDir) : [];
  rmSync(r, { recursive: true, force: true });
  const problems = [...procs.map((p) => `VMM still running: ${p.trim()}`), ...dirs.map((d) => `per-VM dir left behind: ${join(vmsDir, d)}`)];
  if (problems.length > 0) throw new Error(`the suite left things behind:\n${problems.join('\n')}`);
}
