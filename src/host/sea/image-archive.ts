/**
 * The guest image as `npm run package` appends it to the executable, after the SEA blob (the ELF loader
 * and Node's SEA lookup both ignore trailing bytes), and how it is read back from process.execPath.
 *
 *   [executable][member 0]…[member n][index JSON][footer, 64 bytes]
 *   footer: "VGIMAGE1" | archive bytes (u64 BE, members + index + footer) | index bytes (u64 BE)
 *           | sha256 of members + index (32 bytes) | "VGIMAGE1"
 *
 * One gzip member per image file (node:zlib: no external tool), holding only the file's non-zero 64 KiB
 * blocks; the index lists each file's size and the extents those blocks fill, so the 2 GiB rootfs is
 * written back sparse. Appended rather than a SEA asset: sea.getAsset() in Node 20 returns a copy of the
 * whole asset in memory (hundreds of MB here), and postject rewrites the whole executable in wasm memory;
 * a trailer is streamed from disk in both directions.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  createReadStream,
  ftruncateSync,
  fstatSync,
  openSync,
  readSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { ImageDamagedError } from '../image/errors.js';

const MAGIC = Buffer.from('VGIMAGE1');
export const FOOTER_BYTES = 64;
const BLOCK = 64 * 1024;
const READ = 1 << 20;
const ZERO = Buffer.alloc(BLOCK);
/** The files of an image dir the archive carries (cache.ts imageFiles), in archive order. */
export const ARCHIVE_FILES = ['manifest.json', 'vmlinux', 'initrd.img', 'rootfs.ext4'] as const;

export interface ArchiveEntry {
  name: (typeof ARCHIVE_FILES)[number];
  size: number;
  /** [position, length] of the non-zero data, in order; the rest of the file is zeros (a hole). */
  extents: Array<[number, number]>;
  /** Of the gzip member, relative to the archive's start. */
  offset: number;
  length: number;
}

export interface ArchiveIndex {
  format: 1;
  id: string;
  entries: ArchiveEntry[];
}

export interface ArchiveFooter {
  /** Where the archive starts in the file. */
  start: number;
  bytes: number;
  indexBytes: number;
  sha256: string;
  index: ArchiveIndex;
}

/** The non-zero blocks of `path`, read once: each yielded, and its extent recorded in `extents`. */
async function* nonZeroData(path: string, extents: Array<[number, number]>): AsyncGenerator<Buffer> {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(READ);
    for (let pos = 0; ;) {
      const n = readSync(fd, buf, 0, READ, pos);
      if (n === 0) break;
      for (let i = 0; i < n; i += BLOCK) {
        const block = buf.subarray(i, Math.min(i + BLOCK, n));
        if (block.equals(ZERO.subarray(0, block.length))) continue;
        const at = pos + i;
        const last = extents[extents.length - 1];
        if (last && last[0] + last[1] === at) last[1] += block.length;
        else extents.push([at, block.length]);
        yield Buffer.from(block);
      }
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
}

/** Writes the archive of the image in `imageDir` (id `id`) to `out`; returns its length and sha256. */
export async function writeImageArchive(
  imageDir: string,
  id: string,
  out: string,
  level = 6,
): Promise<{ bytes: number; sha256: string }> {
  const fd = openSync(out, 'w', 0o644);
  const hash = createHash('sha256');
  let offset = 0;
  const append = (b: Buffer): void => {
    writeSync(fd, b);
    hash.update(b);
    offset += b.length;
  };
  try {
    const entries: ArchiveEntry[] = [];
    for (const name of ARCHIVE_FILES) {
      const path = join(imageDir, name);
      const extents: Array<[number, number]> = [];
      const start = offset;
      await pipeline(
        Readable.from(nonZeroData(path, extents)),
        createGzip({ level }),
        new Writable({
          write(chunk: Buffer, _enc, done) {
            append(chunk);
            done();
          },
        }),
      );
      const size = statSync(path).size;
      entries.push({ name, size, extents, offset: start, length: offset - start });
    }
    const index = Buffer.from(JSON.stringify({ format: 1, id, entries } satisfies ArchiveIndex));
    append(index);
    const footer = Buffer.alloc(FOOTER_BYTES);
    const sha256 = hash.digest();
    MAGIC.copy(footer, 0);
    footer.writeBigUInt64BE(BigInt(offset + FOOTER_BYTES), 8);
    footer.writeBigUInt64BE(BigInt(index.length), 16);
    sha256.copy(footer, 24);
    MAGIC.copy(footer, 56);
    writeSync(fd, footer);
    return { bytes: offset + FOOTER_BYTES, sha256: sha256.toString('hex') };
  } finally {
    closeSync(fd);
  }
}

/** The archive at the end of `file`, or null when it ends in none (an executable packed with --no-image). */
export function readArchiveFooter(file: string): ArchiveFooter | null {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size < FOOTER_BYTES) return null;
    const footer = Buffer.alloc(FOOTER_BYTES);
    readSync(fd, footer, 0, FOOTER_BYTES, size - FOOTER_BYTES);
    if (!footer.subarray(0, 8).equals(MAGIC) || !footer.subarray(56).equals(MAGIC)) return null;
    const bytes = Number(footer.readBigUInt64BE(8));
    const indexBytes = Number(footer.readBigUInt64BE(16));
    if (bytes > size || indexBytes + FOOTER_BYTES > bytes) throw damaged(file, 'its image footer is inconsistent');
    const indexBuf = Buffer.alloc(indexBytes);
    readSync(fd, indexBuf, 0, indexBytes, size - FOOTER_BYTES - indexBytes);
    let index: ArchiveIndex;
    try {
      index = JSON.parse(indexBuf.toString('utf8')) as ArchiveIndex;
    } catch {
      throw damaged(file, 'its image index is not valid JSON');
    }
    checkIndex(file, index, bytes - FOOTER_BYTES - indexBytes);
    return { start: size - bytes, bytes, indexBytes, sha256: footer.subarray(24, 56).toString('hex'), index };
  } finally {
    closeSync(fd);
  }
}

function damaged(file: string, what: string): ImageDamagedError {
  return new ImageDamagedError(`${file} is damaged: ${what}; download or build the executable again`);
}

/** Members in order, back to back, one per archive file, extents inside the file: nothing is trusted blindly. */
function checkIndex(file: string, index: ArchiveIndex, membersBytes: number): void {
  let at = 0;
  const names = (index.entries ?? []).map((e) => e.name);
  if (index.format !== 1 || JSON.stringify(names) !== JSON.stringify(ARCHIVE_FILES) || !/^[0-9a-f]{16}$/.test(index.id))
    throw damaged(file, 'its image index is not one this version reads');
  for (const e of index.entries) {
    if (e.offset !== at || !(e.length > 0)) throw damaged(file, `its image member ${e.name} is out of place`);
    at += e.length;
    let end = 0;
    for (const [pos, len] of e.extents) {
      if (!(pos >= end && len > 0 && pos + len <= e.size)) throw damaged(file, `the extents of ${e.name} overlap`);
      end = pos + len;
    }
  }
  if (at !== membersBytes) throw damaged(file, 'its image members do not fill the archive');
}

/**
 * Writes the archive's files into `dir` (which must exist and be empty), sparse, checking the archive's
 * sha256 as it is read; `onBytes` hears how much of it has been read.
 */
export async function extractImageArchive(
  file: string,
  footer: ArchiveFooter,
  dir: string,
  opts: { onBytes?: (done: number, total: number) => void; signal?: AbortSignal } = {},
): Promise<void> {
  const hash = createHash('sha256');
  const total = footer.bytes;
  let done = 0;
  for (const e of footer.index.entries) {
    const fd = openSync(join(dir, e.name), 'wx', 0o600);
    try {
      ftruncateSync(fd, e.size);
      let extent = 0;
      let within = 0;
      let written = 0;
      await pipeline(
        createReadStream(file, { start: footer.start + e.offset, end: footer.start + e.offset + e.length - 1 }),
        new Transform({
          transform(chunk: Buffer, _enc, next) {
            hash.update(chunk);
            done += chunk.length;
            opts.onBytes?.(done, total);
            next(null, chunk);
          },
        }),
        createGunzip(),
        new Writable({
          write(chunk: Buffer, _enc, next) {
            let off = 0;
            while (off < chunk.length) {
              const ext = e.extents[extent];
              if (!ext) return next(damaged(file, `${e.name} holds more data than its extents`));
              const n = Math.min(ext[1] - within, chunk.length - off);
              writeSync(fd, chunk, off, n, ext[0] + within);
              off += n;
              within += n;
              written += n;
              if (within === ext[1]) {
                extent++;
                within = 0;
              }
            }
            next();
          },
        }),
        opts.signal ? { signal: opts.signal } : {},
      );
      const want = e.extents.reduce((s, [, len]) => s + len, 0);
      if (written !== want) throw damaged(file, `${e.name} holds ${written} bytes of data; its index records ${want}`);
    } finally {
      closeSync(fd);
    }
  }
  const fd = openSync(file, 'r');
  try {
    const index = Buffer.alloc(footer.indexBytes);
    readSync(fd, index, 0, footer.indexBytes, footer.start + footer.bytes - FOOTER_BYTES - footer.indexBytes);
    hash.update(index);
  } finally {
    closeSync(fd);
  }
  opts.onBytes?.(total, total);
  if (hash.digest('hex') !== footer.sha256) throw damaged(file, 'its image does not match the sha256 in its footer');
}
