/**
 * A minimal writer for the cpio "newc" format the kernel unpacks as an initramfs. Written here rather
 * than calling cpio(1) so that the archive can hold /dev/console (a device node) without root, and so
 * that it is byte-for-byte reproducible (fixed mtimes, owners and inode numbers).
 */
export type CpioEntry =
  | { kind: 'dir'; path: string; mode?: number }
  | { kind: 'file'; path: string; data: Buffer; mode?: number }
  | { kind: 'chardev'; path: string; major: number; minor: number; mode?: number }
  | { kind: 'symlink'; path: string; target: string };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFCHR = 0o020000;
const S_IFLNK = 0o120000;

const pad4 = (n: number): Buffer => Buffer.alloc((4 - (n % 4)) % 4);
const hex8 = (n: number): string => n.toString(16).padStart(8, '0');

function record(
  ino: number,
  name: string,
  mode: number,
  data: Buffer,
  rdev: [number, number] = [0, 0],
  nlink = 1,
): Buffer {
  const nameBuf = Buffer.from(`${name}\0`);
  const fields = [ino, mode, 0, 0, nlink, 0, data.length, 0, 0, rdev[0], rdev[1], nameBuf.length, 0];
  const header = Buffer.from(`070701${fields.map(hex8).join('')}`, 'ascii');
  const headLen = header.length + nameBuf.length;
  return Buffer.concat([header, nameBuf, pad4(headLen), data, pad4(data.length)]);
}

export function writeCpio(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  for (const e of entries) {
    const name = e.path.replace(/^\/+/, '');
    switch (e.kind) {
      case 'dir':
        parts.push(record(ino++, name, S_IFDIR | (e.mode ?? 0o755), Buffer.alloc(0), [0, 0], 2));
        break;
      case 'file':
        parts.push(record(ino++, name, S_IFREG | (e.mode ?? 0o644), e.data));
        break;
      case 'chardev':
        parts.push(record(ino++, name, S_IFCHR | (e.mode ?? 0o600), Buffer.alloc(0), [e.major, e.minor]));
        break;
      case 'symlink':
        parts.push(record(ino++, name, S_IFLNK | 0o777, Buffer.from(e.target)));
        break;
    }
  }
  parts.push(record(0, 'TRAILER!!!', 0, Buffer.alloc(0), [0, 0], 1));
  const out = Buffer.concat(parts);
  // The kernel reads the archive in 512-byte blocks; pad like cpio(1) does.
  return Buffer.concat([out, Buffer.alloc((512 - (out.length % 512)) % 512)]);
}
