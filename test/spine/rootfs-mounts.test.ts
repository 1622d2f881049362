/**
 * An image build as root runs mmdebstrap in root mode, which mounts /proc, /sys, /dev/pts and /dev/shm
 * inside the tree. Those mounts must never be visible in our mount namespace: a build killed halfway
 * (seen: a test run stopped mid-build) otherwise leaves them mounted under the image cache, where its
 * temp dir can no longer be removed (EBUSY) and every later cleanup of that dir fails.
 */
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bootstrapRootfs } from '../../src/host/image/rootfs.js';
import { findExecutable } from '../../src/host/vm/which.js';

const runnable = process.getuid?.() === 0 && findExecutable('mmdebstrap') !== undefined;
const mountsUnder = (dir: string): string[] =>
  readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.includes(` ${dir}/`));

/** Processes whose root or cwd is inside dir: a build still at work there (dpkg chrooted into the tree). */
const processesIn = (dir: string): string[] =>
  readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) =>
      ['root', 'cwd'].some((link) => {
        try {
          const target = readlinkSync(`/proc/${p}/${link}`);
          return target === dir || target.startsWith(`${dir}/`);
        } catch {
          return false; // gone, or not ours to read
        }
      }),
    );

describe.skipIf(!runnable)('rootfs build mounts (as root; skipped without root or mmdebstrap)', () => {
  it("mmdebstrap mounts stay in the build's own namespace, and an aborted build leaves a removable tree", async () => {
    const root = mkdtempSync(join(tmpdir(), 'vg-rootfs-'));
    const payload = mkdtempSync(join(root, 'payload-'));
    const tree = join(root, 'tree');
    const abort = new AbortController();
    const seen: string[][] = [];
    let reachedChroot = false;
    try {
      const build = bootstrapRootfs({
        payloadDir: payload,
        out: tree,
        format: 'directory',
        signal: abort.signal,
        onLine: (line) => {
          // By this line mmdebstrap has mounted the tree's /proc, /sys and /dev (seen on Debian 12).
          if (!/installing essential packages/.test(line) || reachedChroot) return;
          reachedChroot = true;
          setTimeout(() => {
            seen.push(mountsUnder(tree));
            abort.abort();
          }, 1500);
        },
      });
      // Cancelled, not failed, and settled only once the build is gone: util-linux 2.38's unshare blocks
      // SIGTERM, so a build that was only sent one kept writing into the tree while we removed it (ENOTEMPTY).
      await expect(build).rejects.toMatchObject({ name: 'AbortError' });
      expect(processesIn(tree)).toEqual([]);
      expect(reachedChroot).toBe(true);
      expect(seen).toEqual([[]]);
      // The build's processes are gone (runTool resolved after close); nothing of it stays mounted.
      expect(mountsUnder(tree)).toEqual([]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 180_000);
});
