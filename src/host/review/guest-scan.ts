/**
 * The program the guest runs at the end of a review session: it lists the workspace (never following a
 * link) with each file's sha256, and writes on stdout the listing and then the content of every file
 * that differs from the copy-in, in one stream (the framing is in guest-stream.ts, which reads it). It is
 * host code run in the guest with the guest's Node (sent on stdin with the copy-in's baseline, nothing
 * added to the image); a guest that replaces or ptraces Node can send any bytes, so the host treats the
 * whole stream as untrusted input (listing.ts, guest-stream.ts).
 *
 * A file whose size and mtime are still the ones the copy-in gave it, and whose ctime is not after the
 * copy-in's mark (touched once tar was done; ctime cannot be set from user space), is not read again: its
 * sha256 is the copy-in's (without the mark, every file is hashed). A guest that fakes this only hides
 * its own change, which it could also undo.
 */
import type { Tree } from './entry.js';

/** Touched in the guest right after the copy-in's tar has set every file's mtime. */
export const COPY_IN_MARK = '/run/virtualghost-review.mark';

type Baseline = Array<[path: string, size: number, mtime: number, sha256: string]>;

/** What the scan is told of the copy-in: for each file, its size, mtime (whole seconds) and sha256. */
export function scanBaseline(tree: Tree): Baseline {
  const out: Baseline = [];
  for (const e of tree.values())
    if (e.type === 'file' && e.sha256 !== undefined && e.mtime !== undefined)
      out.push([e.path, e.size, e.mtime, e.sha256]);
  return out;
}

/**
 * The scan's source, run as `node - GUEST_DIR` with this on stdin. The baseline goes in as a string for
 * JSON.parse into a Map: as an object literal, a file named `__proto__` or `constructor` would misbehave.
 */
export const scanSource = (base: Baseline): string =>
  `const BASE = new Map(JSON.parse(${JSON.stringify(JSON.stringify(base.map(([p, ...rest]) => [p, rest])))}));\n${GUEST_SCAN_BODY}`;

const GUEST_SCAN_BODY = String.raw`
const fs = require('fs'), crypto = require('crypto');
const [root] = process.argv.slice(2);
const entries = [], send = [];
const types = { 0o100000: 'file', 0o040000: 'dir', 0o120000: 'symlink' };
const buf = Buffer.allocUnsafe(1 << 20);
let mark = -1n;
try { mark = fs.lstatSync(${JSON.stringify(COPY_IN_MARK)}, { bigint: true }).ctimeNs; } catch {}
const open = (abs) => fs.openSync(abs, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
// Small files read for their hash are kept (up to a total) so that sending them does not read them again.
const KEEP_FILE = 256 * 1024, KEEP_TOTAL = 64 * 1024 * 1024, kept = new Map();
let keptBytes = 0;
// In chunks: a file larger than the guest's memory is hashed too.
function hash(p, abs, listed) {
  const h = crypto.createHash('sha256'), fd = open(abs), parts = [];
  let size = 0;
  try {
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) {
      h.update(buf.subarray(0, n));
      if (size + n <= KEEP_FILE) parts.push(Buffer.from(buf.subarray(0, n)));
      size += n;
      // A short read that reaches lstat's size is the end: no second read just to see 0.
      if (n < buf.length && size >= listed) break;
    }
  } finally {
    fs.closeSync(fd);
  }
  if (size <= KEEP_FILE && keptBytes + size <= KEEP_TOTAL) {
    kept.set(p, Buffer.concat(parts));
    keptBytes += size;
  }
  return { h: h.digest('hex'), size };
}
function walk(rel) {
  for (const name of fs.readdirSync(rel ? root + '/' + rel : root).sort()) {
    const p = rel ? rel + '/' + name : name, abs = root + '/' + p;
    const st = fs.lstatSync(abs, { bigint: true });
    const t = types[Number(st.mode & 0o170000n)] || 'other';
    const e = { p, t, m: Number(st.mode & 0o7777n), s: Number(st.size) };
    if (t === 'file') {
      const b = BASE.get(p);
      const same = b && BigInt(b[0]) === st.size && BigInt(b[1]) * 1000000000n === st.mtimeNs && st.ctimeNs <= mark;
      if (same) e.h = b[2];
      // The size listed is the one hashed: the bytes sent are then the ones hashed, even if the file grew.
      else ({ h: e.h, size: e.s } = hash(p, abs, e.s));
      const k = kept.get(p);
      if (!b || b[2] !== e.h) send.push(e);
      else if (k) keptBytes -= k.length, kept.delete(p);
    }
    if (t === 'symlink') e.l = fs.readlinkSync(abs);
    entries.push(e);
    if (t === 'dir') walk(p);
  }
}
// stdout is a pipe that may be non-blocking: wait and retry on EAGAIN.
const pause = new Int32Array(new SharedArrayBuffer(4));
function write(b) {
  for (let off = 0; off < b.length; ) {
    try {
      off += fs.writeSync(1, b, off, b.length - off);
    } catch (err) {
      if (err.code !== 'EAGAIN') throw err;
      Atomics.wait(pause, 0, 0, 5);
    }
  }
}
// Gathered into writes of about 1 MiB: a write per small file costs more than the file under emulation.
let pending = [], pendingBytes = 0;
function flush() {
  if (pendingBytes) write(Buffer.concat(pending, pendingBytes));
  pending = [];
  pendingBytes = 0;
}
function out(b) {
  pending.push(Buffer.from(b));
  pendingBytes += b.length;
  if (pendingBytes >= 1 << 20) flush();
}
const u32 = (n) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
const u64 = (n) => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(n)); return b; };
walk('');
const listing = Buffer.from(JSON.stringify({ v: 2, entries }));
out(Buffer.concat([u64(listing.length), listing]));
for (const e of send) {
  const name = Buffer.from(e.p);
  out(Buffer.concat([u32(name.length), name, u64(e.s)]));
  const got = kept.get(e.p);
  if (got && got.length === e.s) {
    out(got);
    continue;
  }
  // Exactly the listed size: a file that shrank since is padded (and then fails the host's sha256 check).
  const fd = open(root + '/' + e.p);
  try {
    for (let sent = 0; sent < e.s; ) {
      const want = Math.min(buf.length, e.s - sent);
      let n = fs.readSync(fd, buf, 0, want, null);
      if (n === 0) { buf.fill(0, 0, want); n = want; }
      out(buf.subarray(0, n));
      sent += n;
    }
  } finally {
    fs.closeSync(fd);
  }
}
out(u32(0));
flush();
`;
