/**
 * Which QEMU snapshots are used: only complete ones that match their key, image and layout. Anything else
 * is removed rather than restored, and removing an image (`image rm`) removes its snapshots. No VM here:
 * the files are made by hand, with the shapes createSnapshot publishes.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readImage, type CachedImage } from '../../../src/host/image/cache.js';
import { findSnapshot, snapshotKey, snapshotsDir, sweepStaleSnapshots } from '../../../src/host/vm/qemu/snapshot.js';
import { qemuSnapshotLayout } from '../../../src/host/vm/qemu/snapshot-layout.js';
import { runCli } from '../../helpers/cli.js';

const MEMORY_MIB = 2;
let cache: string;
let image: CachedImage;

/** A fake image: the files readImage wants, a manifest naming its id. */
function makeImage(imagesDir: string, id: string): CachedImage {
  const dir = join(imagesDir, id);
  mkdirSync(dir, { recursive: true });
  for (const f of ['vmlinux', 'initrd.img', 'rootfs.ext4']) writeFileSync(join(dir, f), 'x');
  writeFileSync(
    join(dir, 'manifest.json'),
    JSON.stringify({
      id,
      recipe: {},
      kernelRelease: '6.1.0-test',
      createdAt: new Date().toISOString(),
      buildSeconds: 1,
      bytes: { vmlinux: 1, initrd: 1, rootfsApparent: 1 },
    }),
  );
  const img = readImage(imagesDir, id);
  if (img.state !== 'ok') throw new Error(`fake image not readable: ${JSON.stringify(img)}`);
  return img.image;
}

const parts = () => ({
  imageId: image.id,
  qemuVersion: 'QEMU emulator version 7.2.test',
  vcpus: 1,
  memoryMiB: MEMORY_MIB,
  accel: 'kvm',
  cpuModel: 'Test CPU @ 2.4GHz',
  net: 'none' as const,
});

/** What createSnapshot publishes; returns the snapshot dir. */
function publish(p = parts()): string {
  const key = snapshotKey(p);
  const dir = join(snapshotsDir(image), key);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'state.bin'), Buffer.alloc(1000, 1));
  writeFileSync(join(dir, 'memory.bin'), '');
  truncateSync(join(dir, 'memory.bin'), MEMORY_MIB * 1024 * 1024);
  writeFileSync(join(dir, 'disk.qcow2'), 'qcow');
  writeFileSync(
    join(dir, 'meta.json'),
    JSON.stringify({
      key,
      ...p,
      layout: qemuSnapshotLayout(p.accel, p.net),
      stateBytes: 1000,
      diskBytes: 4,
      createdAt: new Date().toISOString(),
    }),
  );
  return dir;
}

beforeEach(() => {
  cache = mkdtempSync(join(tmpdir(), 'vg-snapfiles-'));
  image = makeImage(join(cache, 'virtualghost', 'images'), 'abcdef0123456789');
});
afterEach(() => rmSync(cache, { recursive: true, force: true }));

describe('findSnapshot', () => {
  it('finds a complete snapshot', () => {
    const dir = publish();
    const snap = findSnapshot(image, snapshotKey(parts()));
    expect(snap?.dir).toBe(dir);
    expect(snap?.memory).toBe(join(dir, 'memory.bin'));
  });

  for (const [what, damage] of [
    ['a truncated RAM file', (dir: string) => truncateSync(join(dir, 'memory.bin'), 4096)],
    ['a missing RAM file', (dir: string) => rmSync(join(dir, 'memory.bin'))],
    ['a device state of another size than recorded', (dir: string) => writeFileSync(join(dir, 'state.bin'), 'short')],
    ['a missing disk', (dir: string) => rmSync(join(dir, 'disk.qcow2'))],
    ['a truncated disk', (dir: string) => truncateSync(join(dir, 'disk.qcow2'), 2)],
    [
      'another command-line layout',
      (dir: string) =>
        writeFileSync(
          join(dir, 'meta.json'),
          readFileSync(join(dir, 'meta.json'), 'utf8').replace(/"layout":"[0-9a-f]+"/, '"layout":"0123456789abcdef"'),
        ),
    ],
    [
      'a layout version of before the layout hash',
      (dir: string) =>
        writeFileSync(
          join(dir, 'meta.json'),
          readFileSync(join(dir, 'meta.json'), 'utf8').replace(/"layout":"[0-9a-f]+"/, '"layout":4'),
        ),
    ],
    ['unreadable metadata', (dir: string) => writeFileSync(join(dir, 'meta.json'), '{')],
  ] as const) {
    it(`refuses and removes a snapshot with ${what}`, () => {
      const dir = publish();
      damage(dir);
      expect(findSnapshot(image, snapshotKey(parts()))).toBeUndefined();
      expect(existsSync(dir)).toBe(false);
    });
  }

  it('says why it refused one (the session prints it as a notice)', () => {
    for (const [damage, why] of [
      [(dir: string) => truncateSync(join(dir, 'disk.qcow2'), 2), 'disk.qcow2 is 2 bytes, 4 recorded'],
      [
        (dir: string) => truncateSync(join(dir, 'memory.bin'), 4096),
        `memory.bin is 4096 bytes, ${MEMORY_MIB * 1024 * 1024} recorded`,
      ],
      [(dir: string) => writeFileSync(join(dir, 'state.bin'), 'short'), 'state.bin is 5 bytes, 1000 recorded'],
      [(dir: string) => rmSync(join(dir, 'state.bin')), 'state.bin is missing'],
      [
        (dir: string) =>
          writeFileSync(
            join(dir, 'meta.json'),
            readFileSync(join(dir, 'meta.json'), 'utf8').replace(/,"diskBytes":4/, ''),
          ),
        'meta.json records no disk size (made by an older version)',
      ],
    ] as const) {
      damage(publish());
      const reasons: string[] = [];
      expect(findSnapshot(image, snapshotKey(parts()), (w) => reasons.push(w))).toBeUndefined();
      expect(reasons).toEqual([why]);
    }
    publish();
    const none: string[] = [];
    expect(findSnapshot(image, snapshotKey(parts()), (w) => none.push(w))).toBeDefined();
    expect(none).toEqual([]);
  });

  it('a snapshot for other VM sizes, another QEMU or (KVM) another host CPU is another key', () => {
    publish();
    expect(snapshotKey({ ...parts(), memoryMiB: MEMORY_MIB * 2 })).not.toBe(snapshotKey(parts()));
    expect(snapshotKey({ ...parts(), qemuVersion: 'QEMU emulator version 8.0' })).not.toBe(snapshotKey(parts()));
    expect(snapshotKey({ ...parts(), cpuModel: 'Other CPU @ 3.0GHz' })).not.toBe(snapshotKey(parts()));
    expect(findSnapshot(image, snapshotKey({ ...parts(), vcpus: 2 }))).toBeUndefined();
  });

  it('`image rm` removes the image and with it its snapshots', async () => {
    const dir = publish();
    const r = await runCli(['image', 'rm', image.id], { env: { XDG_CACHE_HOME: cache } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(existsSync(dir)).toBe(false);
    expect(findSnapshot(image, snapshotKey(parts()))).toBeUndefined();
  });
});

describe('sweepStaleSnapshots', () => {
  it("removes what can never match again and dead creations; keeps other sizes, live creations and Firecracker's", () => {
    const current = publish();
    const otherSize = publish({ ...parts(), memoryMiB: MEMORY_MIB * 2 });
    const oldQemu = publish({ ...parts(), qemuVersion: 'QEMU emulator version 7.1.0' });
    const otherCpu = publish({ ...parts(), cpuModel: 'Old CPU' });
    const root = snapshotsDir(image);
    const fc = join(root, 'fc-0123456789abcdef');
    const deadTmp = join(root, '.tmp-0123456789abcdef-999999999-abcdef');
    const liveTmp = join(root, `.tmp-0123456789abcdef-${process.pid}-abcdef`);
    const fcTmp = join(root, '.tmp-fc-0123456789abcdef-999999999-abcdef');
    const noMeta = join(root, 'fedcba9876543210');
    for (const d of [fc, fcTmp, deadTmp, liveTmp, noMeta]) mkdirSync(d);
    sweepStaleSnapshots(image, parts());
    for (const kept of [current, otherSize, fc, fcTmp, liveTmp]) expect(existsSync(kept), kept).toBe(true);
    for (const gone of [oldQemu, otherCpu, deadTmp, noMeta]) expect(existsSync(gone), gone).toBe(false);
  });
});
