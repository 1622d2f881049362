/**
 * The per-VM writable root disk.
 *
 * Firecracker drives are plain raw files: there is no qcow2 or backing-file layer as in QEMU. Instead of a
 * read-only base plus an overlay inside the guest (which would make the guest init differ between VMMs),
 * each VM gets its own copy of the base ext4 image made with `cp --reflink=auto --sparse=always`: on
 * reflink-capable filesystems (btrfs, XFS, bcachefs, ...) that is an instant copy-on-write clone sharing all
 * blocks with the base; elsewhere it is a sparse full copy (about a second for a few hundred MB). The base is
 * never opened for writing, and the copy also makes snapshots self-contained (snapshot.ts).
 */
import { spawn } from 'node:child_process';
import { chmod, chown, link, unlink } from 'node:fs/promises';

export async function cloneFile(src: string, dest: string, signal?: AbortSignal): Promise<void> {
  await unlink(dest).catch(() => undefined);
  await new Promise<void>((resolve, reject) => {
    let stderr = '';
    const child = spawn('cp', ['--reflink=auto', '--sparse=always', '--', src, dest], {
      stdio: ['ignore', 'ignore', 'pipe'],
      signal,
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`cp ${src} ${dest} exited with ${code}: ${stderr.trim()}`)),
    );
  });
  // cp keeps the source's mode, and cached images and snapshots are read-only (0444): the copy is the VM's
  // own writable disk, which a Firecracker not running as root could not otherwise open read-write.
  await chmod(dest, 0o600);
}

/**
 * For a file the VM only reads (kernel, initrd, snapshot state and memory): a hard link when possible (same
 * filesystem), else a reflink/sparse copy. Only a copy is chowned to `owner`: a hard link shares the
 * cached file's inode, and handing that to the jailed uid would let a compromised VMM rewrite the image or
 * snapshot every later VM starts from. Cached files are world-readable (0444), which is all a link needs.
 */
export async function linkOrClone(src: string, dest: string, owner?: { uid: number; gid: number }): Promise<void> {
  await unlink(dest).catch(() => undefined);
  try {
    await link(src, dest);
    return;
  } catch {
    await cloneFile(src, dest);
  }
  if (owner) await chown(dest, owner.uid, owner.gid);
}
