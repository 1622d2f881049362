/** Which Firecracker warm snapshots may be used (warm-store.ts): the key, validation and the stale sweep. */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CachedImage } from '../../src/host/image/cache.js';
import { FirecrackerDriverFactory } from '../../src/host/vm/firecracker/driver.js';
import {
  fcSnapshotKey,
  fileBytes,
  findFcSnapshot,
  hostParts,
  snapshotsDir,
  vmSnapshotIn,
  type FcWarmParts,
} from '../../src/host/vm/firecracker/warm-store.js';
import { startTimeOf } from '../../src/host/store/process-identity.js';
import { FAKE_FC } from './helpers.js';

let root: string;
let image: CachedImage;
const parts: FcWarmParts = {
  imageId: '0123456789abcdef',
  firecrackerVersion: '1.16.1',
  vcpus: 2,
  memoryMiB: 256,
  jailed: false,
  net: 'none',
  ...hostParts(),
};

/** Publishes a snapshot dir for `p` as warm-template.ts does; `meta` overrides what meta.json says. */
function publish(p: FcWarmParts, meta: Partial<Record<string, unknown>> = {}): string {
  const key = fcSnapshotKey(p);
  const dir = join(snapshotsDir(image), key);
  mkdirSync(dir, { recursive: true });
  const vm = vmSnapshotIn(dir);
  writeFileSync(vm.statePath, 'state');
  writeFileSync(vm.memPath, Buffer.alloc(8192));
  writeFileSync(vm.diskPath, 'disk');
  writeFileSync(
    join(dir, 'meta.json'),
    JSON.stringify({ backend: 'firecracker', key, ...p, bytes: fileBytes(vm), createdAt: 'now', ...meta }),
  );
  return dir;
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'vg-fcstore-'));
  image = {
    id: parts.imageId,
    dir: join(root, parts.imageId),
    kernel: '',
    initrd: '',
    rootfs: '',
    manifest: {} as CachedImage['manifest'],
  };
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('Firecracker warm snapshot store', () => {
  it('keys on every part the saved state depends on', () => {
    const changed: FcWarmParts[] = [
      { ...parts, imageId: 'fedcba9876543210' },
      { ...parts, firecrackerVersion: '1.16.2' },
      { ...parts, vcpus: 1 },
      { ...parts, memoryMiB: 512 },
      { ...parts, jailed: true },
      { ...parts, hostCpu: 'another CPU' },
      { ...parts, hostKernel: '9.9.9' },
      { ...parts, layout: `${parts.layout}0` },
    ];
    const keys = new Set([parts, ...changed].map(fcSnapshotKey));
    expect(keys.size).toBe(changed.length + 1);
    for (const k of keys) expect(k).toMatch(/^fc-[0-9a-f]{16}$/);
  });

  it("the factory's key: its Firecracker's version, and whether the jailer is on", async () => {
    const spec = { name: 'x', vcpus: 2, memoryMiB: 256, kernelPath: '', initrdPath: '', rootfsPath: '' };
    const plain = await new FirecrackerDriverFactory({
      bin: FAKE_FC,
      kvmCheck: false,
      env: { ...process.env, FAKE_FC_VERSION: '1.9.3' },
    })
      .warmSnapshots()
      .key(image, spec);
    expect(plain.parts).toMatchObject({
      firecrackerVersion: '1.9.3',
      jailed: false,
      net: 'none',
      vcpus: 2,
      memoryMiB: 256,
      imageId: image.id,
    });
    const jailed = await new FirecrackerDriverFactory({
      bin: FAKE_FC,
      kvmCheck: false,
      env: { ...process.env, FAKE_FC_VERSION: '1.9.3' },
      jailer: { bin: '/usr/bin/jailer', uid: 1, gid: 1, chrootBase: '/srv/jailer' },
    })
      .warmSnapshots()
      .key(image, spec);
    expect(jailed.parts.jailed).toBe(true);
    expect(jailed.id).not.toBe(plain.id);
  });

  it('finds a complete snapshot whose meta matches', () => {
    const dir = publish(parts);
    expect(findFcSnapshot(image, parts)?.dir).toBe(dir);
  });

  it.each([
    ['a truncated memory file', (dir: string) => truncateSync(join(dir, 'vm.mem'), 100)],
    ['a missing disk', (dir: string) => rmSync(join(dir, 'rootfs.ext4'))],
    ['a meta.json that is not JSON', (dir: string) => writeFileSync(join(dir, 'meta.json'), '{')],
  ])('removes a snapshot with %s and never returns it', (_what, damage) => {
    const dir = publish(parts);
    damage(dir);
    expect(findFcSnapshot(image, parts)).toBeUndefined();
    expect(existsSync(dir)).toBe(false);
  });

  it.each([
    ['state', 'vm.vmstate', 'state file is 2 bytes, 5 recorded'],
    ['mem', 'vm.mem', 'mem file is 2 bytes, 8192 recorded'],
    ['disk', 'rootfs.ext4', 'disk file is 2 bytes, 4 recorded'],
  ])('a truncated %s file is refused and the reason given (for the notice)', (_what, file, why) => {
    const dir = publish(parts);
    truncateSync(join(dir, file), 2);
    const reasons: string[] = [];
    expect(findFcSnapshot(image, parts, (w) => reasons.push(w))).toBeUndefined();
    expect(reasons).toEqual([why]);
    expect(existsSync(dir)).toBe(false);
  });

  it("removes its own creations whose process is gone, not QEMU's and not live ones", () => {
    const key = fcSnapshotKey(parts);
    const dead = join(snapshotsDir(image), `.tmp-${key}-999999999-1-abcdef`);
    const live = join(snapshotsDir(image), `.tmp-${key}-${process.pid}-${startTimeOf(process.pid)}-abcdef`);
    const qemus = join(snapshotsDir(image), '.tmp-d9ed7099bab6f39d-999999999-1-abcdef');
    for (const d of [dead, live, qemus]) mkdirSync(d, { recursive: true });
    findFcSnapshot(image, parts);
    expect([dead, live, qemus].map((d) => existsSync(d))).toEqual([false, true, true]);
  });

  it('removes a snapshot whose meta disagrees with its key', () => {
    const dir = publish(parts, { vcpus: 4 });
    expect(findFcSnapshot(image, parts)).toBeUndefined();
    expect(existsSync(dir)).toBe(false);
  });

  it("removes this image's snapshots of another Firecracker, CPU, host kernel or layout; keeps other VM sizes, QEMU's and unfinished ones", () => {
    const stale = [
      publish({ ...parts, firecrackerVersion: '1.15.0' }),
      publish({ ...parts, hostCpu: 'old CPU' }),
      publish({ ...parts, hostKernel: '5.10.0' }),
      publish({ ...parts, layout: '0123456789abcdef' }),
    ];
    const otherSize = publish({ ...parts, memoryMiB: 1024 });
    const qemu = join(snapshotsDir(image), 'd9ed7099bab6f39d');
    const unfinished = join(snapshotsDir(image), `.tmp-${fcSnapshotKey(parts)}-1-abcdef`);
    for (const d of [qemu, unfinished]) mkdirSync(d, { recursive: true });
    expect(findFcSnapshot(image, parts)).toBeUndefined();
    for (const d of stale) expect(existsSync(d)).toBe(false);
    expect(readdirSync(snapshotsDir(image)).sort()).toEqual(
      [otherSize, qemu, unfinished].map((d) => d.split('/').at(-1)).sort(),
    );
  });
});
