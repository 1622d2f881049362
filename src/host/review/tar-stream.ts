/**
 * A POSIX (pax) tar stream of a host snapshot, for `tar -x` in the guest: the copy-in of a workspace.
 * Each file is read once through an O_NOFOLLOW fd, for exactly the size fstat gave when it was opened
 * (a file that shrinks meanwhile is padded with zeros), and hashed as it is sent: the snapshot's sha256
 * is the content the guest received.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { TreeEntry } from './entry.js';
import type { HostSnapshot } from './snapshot.js';

const BLOCK = 512;
const CHUNK = 256 * 1024;

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\0`;
}

function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  const bodyLen = Buffer.byteLength(body);
  let len = bodyLen + 1;
  while (String(len).length + bodyLen !== len) len = String(len).length + bodyLen;
  return Buffer.from(`${len}${body}`);
}

function header(name: string, type: string, mode: number, size: number, mtime: number, linkname = ''): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100);
  h.write(octal(mode, 8), 100);
  h.write(octal(0, 8), 108);
  h.write(octal(0, 8), 116);
  h.write(octal(size, 12), 124);
  h.write(octal(mtime, 12), 136);
  h.write('        ', 148);
  h.write(type, 156);
  h.write(linkname, 157, 100);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

const padding = (size: number): Buffer => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
const fitsUstar = (s: string): boolean => Buffer.byteLength(s) < 100 && /^[\x20-\x7e]*$/.test(s);

/** The headers of one entry: a pax header first when its name or link text does not fit ustar's fields. */
function entryHeaders(e: TreeEntry, name: string, size: number, mtime: number): Buffer[] {
  const out: Buffer[] = [];
  const records: Buffer[] = [];
  if (!fitsUstar(name)) records.push(paxRecord('path', name));
  if (e.target !== undefined && !fitsUstar(e.target)) records.push(paxRecord('linkpath', e.target));
  if (records.length) {
    const body = Buffer.concat(records);
    out.push(header('PaxHeader', 'x', 0o644, body.length, mtime), body, padding(body.length));
  }
  const type = e.type === 'dir' ? '5' : e.type === 'symlink' ? '2' : '0';
  const shortName = fitsUstar(name) ? name : 'long-name';
  const link = e.target !== undefined && fitsUstar(e.target) ? e.target : '';
  out.push(header(shortName, type, e.mode, size, mtime, link));
  return out;
}

/** Yields the tar stream of `snap`, filling in each file entry's sha256, size and mtime. */
export function* tarStream(snap: HostSnapshot): Generator<Buffer> {
  const buf = Buffer.allocUnsafe(CHUNK);
  for (const e of snap.tree.values()) {
    const abs = join(snap.root, e.path);
    const name = e.type === 'dir' ? `${e.path}/` : e.path;
    if (e.type !== 'file') {
      yield* entryHeaders(e, name, 0, Math.floor(lstatSync(abs).mtimeMs / 1000));
      continue;
    }
    const fd = openSync(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const st = fstatSync(fd);
      const size = st.size;
      const mtime = Math.floor(st.mtimeMs / 1000);
      yield* entryHeaders(e, name, size, mtime);
      const h = createHash('sha256');
      for (let sent = 0; sent < size;) {
        const want = Math.min(CHUNK, size - sent);
        let n = readSync(fd, buf, 0, want, null);
        if (n === 0) {
          buf.fill(0, 0, want);
          n = want;
        }
        const chunk = Buffer.from(buf.subarray(0, n));
        h.update(chunk);
        sent += n;
        yield chunk;
      }
      yield padding(size);
      e.sha256 = h.digest('hex');
      e.size = size;
      e.mtime = mtime;
    } finally {
      closeSync(fd);
    }
  }
  yield Buffer.alloc(BLOCK * 2);
}
