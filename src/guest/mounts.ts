/**
 * Mounts the shared folders a session offer names (shared/mounts.ts), before the agent serves SSH, so
 * they are there before the first prompt. A path already mounted is left alone: a restarted agent or a
 * later offer on the same boot does not stack a second mount on it.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import type { GuestMount } from '../shared/mounts.js';
import type { SessionHelper } from './system.js';

/**
 * 9p over virtio: 9P2000.L for POSIX semantics; msize 512000, about the most QEMU's virtio transport
 * takes (the default 128 KiB needs 4x the round trips for big files); cache=mmap so that mmap works
 * (git, compilers) while reads and writes still go to the host at once, keeping both sides coherent.
 */
const OPTIONS = 'trans=virtio,version=9p2000.L,msize=512000,cache=mmap';

/** Mount points in /proc/self/mountinfo (field 5, with its octal escapes undone). */
function mountPoints(): Set<string> {
  const text = readFileSync('/proc/self/mountinfo', 'utf8');
  return new Set(
    text
      .split('\n')
      .map((line) => line.split(' ')[4])
      .filter((p): p is string => p !== undefined)
      .map((p) => p.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)))),
  );
}

/**
 * Through the resident helper's mount(2), not /bin/mount: forking the agent and running mount took ~2.4 s
 * on a restored clone under TCG (all cold code), the helper's request milliseconds.
 */
export async function mountShared(mounts: readonly GuestMount[], helper: SessionHelper): Promise<void> {
  if (mounts.length === 0) return;
  const present = mountPoints();
  // Parents first: /work before /work/cache.
  const ordered = [...mounts].sort((a, b) => a.path.split('/').length - b.path.split('/').length);
  for (const m of ordered) {
    if (present.has(m.path)) continue;
    mkdirSync(m.path, { recursive: true, mode: 0o755 });
    await helper.mount9p(m.tag, m.path, m.readonly, OPTIONS);
  }
}
