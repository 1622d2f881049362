/**
 * Before the suite: the agent bundle and the guest image must exist (`npm test` runs scripts/setup.mjs
 * first); the run gets its own image cache holding them (linkImages). After the suite: nothing may be left behind — no VMM process started from
 * the test dirs, no per-VM dir, socket or overlay — or the run fails.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = (): string => {
  const r = process.env['VG_TEST_ROOT'];
  if (!r) throw new Error('VG_TEST_ROOT is not set (vitest.config.ts sets it)');
  return r;
};

export function setup(): void {
  for (const d of ['run', 'config', 'state', 'cache']) mkdirSync(join(root(), d), { recursive: true, mode: 0o700 });
  linkImages(process.env['VG_REAL_CACHE'], join(root(), 'cache', 'virtualghost'));
}

/**
 * The run's image cache starts with the user's images, hard-linked (no 2 GiB copies, no rebuild), and
 * none of their warm snapshots: tests make snapshots of odd VM sizes and damage images, and none of that
 * may reach the user's cache. Tests only ever replace an image file, never write through it
 * (helpers/image-copy.ts replaceFile), so the links keep the user's files as they are. A file that cannot
 * be linked (another filesystem) is copied.
 */
function linkImages(realCache: string | undefined, cache: string): void {
  if (!realCache || !existsSync(join(realCache, 'images'))) return;
  mkdirSync(join(cache, 'images'), { recursive: true });
  for (const name of ['kernel-package.json'])
    if (existsSync(join(realCache, name))) copyFileSync(join(realCache, name), join(cache, name));
  for (const id of readdirSync(join(realCache, 'images'))) {
    const from = join(realCache, 'images', id);
    if (id.startsWith('.') || !existsSync(join(from, 'manifest.json'))) continue;
    const to = join(cache, 'images', id);
    mkdirSync(to, { recursive: true });
    for (const f of readdirSync(from)) {
      if (!statSync(join(from, f)).isFile()) continue; // snapshots/ stays behind
      try {
        linkSync(join(from, f), join(to, f));
      } catch {
        copyFileSync(join(from, f), join(to, f));
      }
    }
  }
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
  const problems = [
    ...procs.map((p) => `VMM still running: ${p.trim()}`),
    ...dirs.map((d) => `per-VM dir left behind: ${join(vmsDir, d)}`),
  ];
  if (problems.length > 0) throw new Error(`the suite left things behind:\n${problems.join('\n')}`);
}
