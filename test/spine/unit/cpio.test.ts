/** cpio newc writer: parse the archive back with an independent reader and check every field that matters. */
import { describe, expect, it } from 'vitest';
import { writeCpio, type CpioEntry } from '../../../src/host/image/cpio.js';

interface Parsed {
  name: string;
  ino: number;
  mode: number;
  nlink: number;
  rdevmajor: number;
  rdevminor: number;
  data: Buffer;
  headerOffset: number;
  dataOffset: number;
}

/** An independent newc reader (the kernel's rules: 110-byte ASCII header, name+NUL and data each padded to 4). */
function readCpio(buf: Buffer): { entries: Parsed[]; end: number } {
  const entries: Parsed[] = [];
  let off = 0;
  const align = (n: number): number => (n + 3) & ~3;
  for (;;) {
    const magic = buf.toString('ascii', off, off + 6);
    if (magic !== '070701') throw new Error(`bad magic ${JSON.stringify(magic)} at ${off}`);
    const field = (i: number): number => {
      const hex = buf.toString('ascii', off + 6 + i * 8, off + 14 + i * 8);
      if (!/^[0-9a-f]{8}$/i.test(hex)) throw new Error(`bad hex field ${i} at ${off}: ${hex}`);
      return parseInt(hex, 16);
    };
    const [ino, mode, , , nlink, , filesize, , , rdevmajor, rdevminor, namesize, check] = Array.from(
      { length: 13 },
      (_, i) => field(i),
    ) as number[];
    if (check !== 0) throw new Error('check field must be 0 for newc');
    const nameStart = off + 110;
    const nameBuf = buf.subarray(nameStart, nameStart + (namesize as number));
    if (nameBuf[nameBuf.length - 1] !== 0) throw new Error('name is not NUL-terminated');
    const name = nameBuf.toString('utf8', 0, nameBuf.length - 1);
    const dataOffset = align(nameStart + (namesize as number));
    const data = buf.subarray(dataOffset, dataOffset + (filesize as number));
    entries.push({
      name,
      ino: ino as number,
      mode: mode as number,
      nlink: nlink as number,
      rdevmajor: rdevmajor as number,
      rdevminor: rdevminor as number,
      data: Buffer.from(data),
      headerOffset: off,
      dataOffset,
    });
    off = align(dataOffset + (filesize as number));
    if (name === 'TRAILER!!!') return { entries, end: off };
  }
}

const entries: CpioEntry[] = [
  { kind: 'dir', path: '/dev' },
  { kind: 'chardev', path: '/dev/console', major: 5, minor: 1 },
  { kind: 'file', path: 'init', data: Buffer.from('#!/bin/sh\necho hi\n'), mode: 0o755 },
  // Lengths 1..7 exercise every padding case of name and data.
  ...Array.from({ length: 7 }, (_, i): CpioEntry => ({
    kind: 'file',
    path: `f${'x'.repeat(i)}`,
    data: Buffer.alloc(i + 1, 0x41 + i),
  })),
  { kind: 'symlink', path: 'bin/sh', target: 'busybox' },
  { kind: 'dir', path: 'lib/modules', mode: 0o700 },
];

describe('writeCpio', () => {
  const archive = writeCpio(entries);
  const { entries: parsed, end } = readCpio(archive);

  it('writes every entry, in order, with leading slashes stripped, then the trailer', () => {
    expect(parsed.map((p) => p.name)).toEqual([...entries.map((e) => e.path.replace(/^\/+/, '')), 'TRAILER!!!']);
    const trailer = parsed[parsed.length - 1] as Parsed;
    expect(trailer.data.length).toBe(0);
  });

  it('aligns every header and every data section to 4 bytes and pads the archive to 512', () => {
    for (const p of parsed) {
      expect(p.headerOffset % 4, p.name).toBe(0);
      expect(p.dataOffset % 4, p.name).toBe(0);
    }
    expect(archive.length % 512).toBe(0);
    expect(archive.length).toBeGreaterThanOrEqual(end);
    expect(archive.length - end).toBeLessThan(512);
    expect(archive.subarray(end).every((b) => b === 0)).toBe(true);
  });

  it('round-trips types, modes, contents, device numbers and link targets', () => {
    const by = (n: string): Parsed => parsed.find((p) => p.name === n) as Parsed;
    expect(by('dev').mode).toBe(0o040755);
    expect(by('dev').nlink).toBe(2);
    expect(by('dev/console').mode).toBe(0o020600);
    expect([by('dev/console').rdevmajor, by('dev/console').rdevminor]).toEqual([5, 1]);
    expect(by('init').mode).toBe(0o100755);
    expect(by('init').data.toString()).toBe('#!/bin/sh\necho hi\n');
    for (let i = 0; i < 7; i++) expect(by(`f${'x'.repeat(i)}`).data).toEqual(Buffer.alloc(i + 1, 0x41 + i));
    expect(by('fxx').mode).toBe(0o100644);
    expect(by('bin/sh').mode).toBe(0o120777);
    expect(by('bin/sh').data.toString()).toBe('busybox');
    expect(by('lib/modules').mode).toBe(0o040700);
  });

  it('gives unique inode numbers and is byte-for-byte reproducible', () => {
    const inos = parsed.slice(0, -1).map((p) => p.ino);
    expect(new Set(inos).size).toBe(inos.length);
    expect(writeCpio(entries).equals(archive)).toBe(true);
  });
});
