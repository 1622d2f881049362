/**
 * Firecracker warm starts in sessions, against the stand-in (fake-firecracker.mjs: every request validated
 * against the v1.16.1 swagger) with a REAL guest agent behind it: the stand-in's guest vsock ports are routed
 * to a QEMU TCG guest (guest-router.ts), so the template's warm-up and each clone's control handshake
 * (with a host key made by the host) and SSH are the real protocol with the real ghostly-agent.
 *
 * The image is a small stand-in image in a private images dir (the stand-in never reads the kernel), so
 * deleting it is safe; the QEMU guest behind the router runs the real current image.
 */
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGuestCommand } from '../../src/host/cli/exec.js';
import { loadConfig } from '../../src/host/config/load.js';
import type { ConfigKey } from '../../src/host/config/schema.js';
import { readImage, type CachedImage } from '../../src/host/image/cache.js';
import { VmSession } from '../../src/host/session.js';
import { createInstanceDir, type OwnedInstanceDir } from '../../src/host/store/instance-dir.js';
import { ghostPaths, type GhostPaths } from '../../src/host/store/paths.js';
import type { VmDriver } from '../../src/host/vm/driver.js';
import { FirecrackerDriverFactory } from '../../src/host/vm/firecracker/driver.js';
import { fcSnapshotLayout } from '../../src/host/vm/firecracker/warm-store.js';
import { QemuFactory } from '../../src/host/vm/qemu/factory.js';
import { currentImage } from '../helpers/image.js';
import { routeToGuest, type GuestRouter } from './guest-router.js';
import { FAKE_FC, isAlive, specErrors, waitFor, type LogEntry } from './helpers.js';

const FAKE_JAILER = fileURLToPath(new URL('./fake-jailer.sh', import.meta.url));

const IMAGE_ID = 'fc00fc00fc00fc01';
let root: string;
let imagesDir: string;
let paths: GhostPaths;
let logFile: string;
let backingDir: OwnedInstanceDir;
let backing: VmDriver | undefined;
let router: GuestRouter | undefined;
const open: VmSession[] = [];

function entries(): LogEntry[] {
  return existsSync(logFile)
    ? readFileSync(logFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as LogEntry & { t: number; why?: string })
    : [];
}
const requestsOf = (pid: number): LogEntry[] => entries().filter((e) => e.event === 'request' && e.pid === pid);
const describeReq = (e: LogEntry): string =>
  `${e.method} ${e.path}${e.path === '/actions' || e.path === '/vm' ? ` ${e.raw}` : ''}`;
/** Firecracker processes started since log line `from`, in order. */
const startsSince = (from: number): number[] =>
  entries()
    .slice(from)
    .filter((e) => e.event === 'start')
    .map((e) => e.pid);

function writeTestImage(): CachedImage {
  const dir = join(imagesDir, IMAGE_ID);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'vmlinux'), 'stand-in kernel');
  writeFileSync(join(dir, 'initrd.img'), 'stand-in initrd');
  // A sparse 64 MiB "root fs" with data at both ends: copies must keep every byte.
  writeFileSync(join(dir, 'rootfs.ext4'), 'ROOTFS-HEAD');
  truncateSync(join(dir, 'rootfs.ext4'), 64 << 20);
  const fd = openSync(join(dir, 'rootfs.ext4'), 'r+');
  writeSync(fd, 'ROOTFS-TAIL', (64 << 20) - 11);
  closeSync(fd);
  writeFileSync(
    join(dir, 'manifest.json'),
    JSON.stringify({
      id: IMAGE_ID,
      recipe: {},
      kernelRelease: 'stand-in',
      createdAt: new Date().toISOString(),
      buildSeconds: 0,
      bytes: { vmlinux: 'stand-in kernel'.length, initrd: 'stand-in initrd'.length, rootfsApparent: 64 << 20 },
    }),
  );
  const img = readImage(imagesDir, IMAGE_ID);
  if (img.state !== 'ok') throw new Error(`test image not readable: ${JSON.stringify(img)}`);
  return img.image;
}

async function start(
  notices: string[] = [],
  cold = false,
  flags: Partial<Record<ConfigKey, unknown>> = {},
): Promise<VmSession> {
  const config = loadConfig(paths.configFile, process.env, {
    backend: 'firecracker',
    'firecracker.bin': FAKE_FC,
    'firecracker.kvm_check': false,
    image: IMAGE_ID,
    vcpus: 2,
    memory: 256,
    ...flags,
  });
  const s = await VmSession.start({
    config,
    paths,
    signal: AbortSignal.timeout(240_000),
    cold,
    onNotice: (n) => notices.push(n),
  });
  open.push(s);
  return s;
}

async function guest(s: VmSession, cmd: string): Promise<string> {
  const stdout = new PassThrough();
  let out = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  expect(await runGuestCommand(s.ssh!, cmd, { stdout, stderr: new PassThrough() }), cmd).toBe(0);
  return out.trim();
}

const snapshotsOf = (): string[] =>
  existsSync(join(imagesDir, IMAGE_ID, 'snapshots')) ? readdirSync(join(imagesDir, IMAGE_ID, 'snapshots')) : [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'vg-fcwarm-'));
  imagesDir = join(root, 'images');
  logFile = join(root, 'fc.jsonl');
  paths = { ...ghostPaths(), imagesDir };
  writeTestImage();
  // The real guest behind the stand-in: a cold QEMU boot of the current image (its agent answers the routed streams).
  const real = await currentImage();
  backingDir = createInstanceDir(paths.vmsDir, `fcwarm-guest-${process.pid}`);
  backing = new QemuFactory('qemu-system-x86_64', 'qemu-img', paths.stateDir).create(
    {
      name: backingDir.name,
      vcpus: 1,
      memoryMiB: 512,
      kernelPath: real.kernel,
      initrdPath: real.initrd,
      rootfsPath: real.rootfs,
    },
    backingDir,
    'tcg',
  );
  await backing.start(AbortSignal.timeout(60_000));
  router = await routeToGuest(backing, root);
  process.env['FAKE_FC_LOG'] = logFile;
  process.env['FAKE_FC_GUEST_PORTS'] = router.ports;
  process.env['FAKE_FC_GUEST_CONSOLE'] = backingDir.file('console.log');
});

afterAll(async () => {
  await Promise.all(open.map((s) => s.close()));
  await router?.close();
  await backing?.stop();
  backingDir?.remove();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('Firecracker warm starts (stand-in VMM, real guest agent behind it)', () => {
  let key: string;

  it('creates the template with the documented sequence, then restores a clone in a fresh process with its own disk and vsock', async () => {
    const from = entries().length;
    const notices: string[] = [];
    const s = await start(notices);
    expect(notices.join('\n')).toMatch(/preparing a warm snapshot/);
    expect(s.restoredFrom).toMatch(/^fc-[0-9a-f]{16}$/);
    key = s.restoredFrom!;
    const [template, clone] = startsSince(from);
    expect(template).toBeDefined();
    expect(clone).toBeDefined();

    // Template: the boot sequence, then (after the guest sync) pause → Full snapshot → resume, then the stop.
    const snapDir = join(imagesDir, IMAGE_ID, 'snapshots', key);
    expect(requestsOf(template!).map(describeReq)).toEqual([
      'PUT /logger',
      'PUT /metrics',
      'PUT /boot-source',
      'PUT /drives/rootfs',
      'PUT /machine-config',
      'PUT /vsock',
      'PUT /actions {"action_type":"InstanceStart"}',
      'PATCH /vm {"state":"Paused"}',
      'PUT /snapshot/create',
      'PATCH /vm {"state":"Resumed"}',
      'PUT /actions {"action_type":"SendCtrlAltDel"}',
    ]);
    const create = requestsOf(template!).find((e) => e.path === '/snapshot/create')!;
    const createBody = JSON.parse(create.raw!) as {
      snapshot_type: string;
      snapshot_path: string;
      mem_file_path: string;
    };
    expect(createBody.snapshot_type).toBe('Full');
    expect(createBody.snapshot_path).toMatch(/\/snapshots\/\.tmp-fc-[0-9a-f]{16}-\d+-\d+-[0-9a-f]{6}\/vm\.vmstate$/);
    // The warm-up reached the real agent: one control session and two SSH connections (exec + PTY, then `sync`),
    // all closed before the pause.
    const pauseAt = (requestsOf(template!).find((e) => e.path === '/vm') as LogEntry & { t: number }).t;
    const beforePause = router!.connections.filter((c) => c.openedAt < pauseAt);
    expect(beforePause.map((c) => c.stream)).toEqual(['control', 'ssh', 'ssh']);
    for (const c of beforePause) expect(c.closedAt).toBeLessThanOrEqual(pauseAt);

    // Published: complete, read-only, with its meta.
    expect(readdirSync(snapDir).sort()).toEqual(['meta.json', 'rootfs.ext4', 'vm.mem', 'vm.vmstate']);
    for (const f of readdirSync(snapDir)) expect(statSync(join(snapDir, f)).mode & 0o777).toBe(0o444);
    const meta = JSON.parse(readFileSync(join(snapDir, 'meta.json'), 'utf8')) as Record<string, unknown>;
    expect(meta).toMatchObject({
      backend: 'firecracker',
      key,
      imageId: IMAGE_ID,
      firecrackerVersion: '1.16.1',
      vcpus: 2,
      memoryMiB: 256,
      jailed: false,
      layout: fcSnapshotLayout(),
    });
    expect(snapshotsOf().filter((n) => n.startsWith('.tmp-'))).toEqual([]);

    // Clone: a fresh process that only loads (logger and metrics are all it may configure first).
    const cloneReqs = requestsOf(clone!);
    expect(cloneReqs.map(describeReq)).toEqual(['PUT /logger', 'PUT /metrics', 'PUT /snapshot/load']);
    expect(JSON.parse(cloneReqs[2]!.raw!)).toEqual({
      snapshot_path: join(snapDir, 'vm.vmstate'),
      mem_backend: { backend_type: 'File', backend_path: join(snapDir, 'vm.mem') },
      vsock_override: { uds_path: 'vsock.sock' },
      resume_vm: true,
    });
    expect(entries().find((e) => e.event === 'start' && e.pid === clone)?.cwd).toBe(s.dir.path);
    // Its own disk: a copy of the snapshot's (same bytes, another inode) in its own dir.
    const disk = s.dir.file('rootfs.ext4');
    expect(statSync(disk).ino).not.toBe(statSync(join(snapDir, 'rootfs.ext4')).ino);
    expect(statSync(disk).mode & 0o777).toBe(0o600); // writable by a Firecracker that is not root

    expect(readFileSync(disk).equals(readFileSync(join(snapDir, 'rootfs.ext4')))).toBe(true);

    // The handshake (new host key) and SSH went through the clone's vsock to the real agent.
    expect(s.hostKey).toMatch(/^ssh-ed25519 /);
    expect(await guest(s, 'echo $((6 * 7))')).toBe('42');
    const dir = s.dir.path;
    await s.close();
    expect(await waitFor(() => !isAlive(clone!), 5_000)).toBe(true);
    expect(existsSync(dir)).toBe(false);
    expect(specErrors(entries())).toEqual([]);

    // The next run restores the same snapshot at once: no template.
    const from2 = entries().length;
    const notices2: string[] = [];
    const s2 = await start(notices2);
    expect(s2.restoredFrom).toBe(key);
    expect(notices2).toEqual([]);
    expect(startsSince(from2)).toHaveLength(1);
    expect(s2.hostKey).not.toBe(s.hostKey);
    await s2.close();
  });

  it('a corrupt state file is refused by the load: snapshot removed, one-line notice, cold boot', async () => {
    const snapDir = join(imagesDir, IMAGE_ID, 'snapshots', key);
    const state = join(snapDir, 'vm.vmstate');
    // Same size, so only the VMM's own check on load can notice.
    chmodSync(state, 0o644);
    const fd = openSync(state, 'r+');
    writeSync(fd, Buffer.alloc(16, 0x5a), 0, 16, 0);
    closeSync(fd);
    const from = entries().length;
    const notices: string[] = [];
    const s = await start(notices);
    expect(s.restoredFrom).toBeUndefined();
    const failure = notices.filter((n) => /restoring the warm snapshot failed/.test(n));
    expect(failure).toHaveLength(1);
    expect(failure[0]).toMatch(/removed it, booting cold$/);
    expect(failure[0]).not.toContain('\n');
    expect(existsSync(snapDir)).toBe(false);
    const [clone, cold] = startsSince(from);
    expect(requestsOf(clone!).at(-1)).toMatchObject({ path: '/snapshot/load', status: 400 });
    expect(requestsOf(cold!).map(describeReq)).toContain('PUT /actions {"action_type":"InstanceStart"}');
    expect(await guest(s, 'uname -s')).toBe('Linux');
    await s.close();
  });

  it('a truncated memory file or another Firecracker version is never used: removed and rebuilt', async () => {
    const s1 = await start();
    const first = s1.restoredFrom!;
    await s1.close();
    truncateSync(join(imagesDir, IMAGE_ID, 'snapshots', first, 'vm.mem'), 100);
    const from = entries().length;
    const notices: string[] = [];
    const s2 = await start(notices);
    expect(notices.filter((n) => /unusable/.test(n))).toEqual([
      `the warm snapshot ${first} is unusable (mem file is 100 bytes, 4096 recorded): removed it, making a new one`,
    ]);
    expect(notices.join('\n')).toMatch(/preparing a warm snapshot/);
    expect(s2.restoredFrom).toBe(first);
    // Rebuilt: a new template boot, and the only load is of the new snapshot (after its creation).
    const loads = entries()
      .slice(from)
      .filter((e) => e.path === '/snapshot/load' || e.path === '/snapshot/create');
    expect(loads.map((e) => e.path)).toEqual(['/snapshot/create', '/snapshot/load']);
    expect(statSync(join(imagesDir, IMAGE_ID, 'snapshots', first, 'vm.mem')).size).toBe(4096);
    await s2.close();

    // A Firecracker upgrade: the old snapshot can never be restored by it and goes; a new one is made.
    process.env['FAKE_FC_VERSION'] = '1.16.2';
    try {
      const s3 = await start();
      expect(s3.restoredFrom).toMatch(/^fc-/);
      expect(s3.restoredFrom).not.toBe(first);
      expect(snapshotsOf()).toEqual([s3.restoredFrom]);
      await s3.close();
    } finally {
      delete process.env['FAKE_FC_VERSION'];
    }
    // And back: the snapshot of the version no longer in use goes, the first key's is made again.
    const s4 = await start();
    expect(s4.restoredFrom).toBe(first);
    expect(snapshotsOf()).toEqual([first]);
    await s4.close();
  });

  it('two restores at once each load into their own process with their own disk and vsock socket', async () => {
    const found = readImage(imagesDir, IMAGE_ID);
    if (found.state !== 'ok') throw new Error(`test image not readable: ${JSON.stringify(found)}`);
    const image = found.image;
    const factory = new FirecrackerDriverFactory({ bin: FAKE_FC, kvmCheck: false });
    const warm = factory.warmSnapshots();
    const spec = {
      name: 'twin',
      vcpus: 2,
      memoryMiB: 256,
      kernelPath: image.kernel,
      initrdPath: image.initrd,
      rootfsPath: image.rootfs,
    };
    const snap = warm.find(image, await warm.key(image, spec));
    expect(snap).toBeDefined();
    const dirs = [
      createInstanceDir(paths.vmsDir, `twin-a-${process.pid}`),
      createInstanceDir(paths.vmsDir, `twin-b-${process.pid}`),
    ];
    const clones = dirs.map((d) => warm.restore(snap!, { ...spec, name: d.name }, d, 'kvm').driver);
    const from = entries().length;
    try {
      await Promise.all(clones.map((c) => c.start(AbortSignal.timeout(30_000))));
      const pids = clones.map((c) => c.pid!);
      expect(new Set(pids).size).toBe(2);
      expect(startsSince(from).sort()).toEqual([...pids].sort());
      const loads = pids.map(
        (p) =>
          JSON.parse(requestsOf(p).find((e) => e.path === '/snapshot/load')!.raw!) as {
            vsock_override: { uds_path: string };
          },
      );
      for (const l of loads) expect(l.vsock_override.uds_path).toBe('vsock.sock');
      const disks = dirs.map((d) => d.file('rootfs.ext4'));
      expect(statSync(disks[0]!).ino).not.toBe(statSync(disks[1]!).ino);
      for (const d of dirs) expect(existsSync(d.file('vsock.sock'))).toBe(true);
      // A write to one clone's disk is not seen by the other's or by the snapshot's.
      writeFileSync(disks[0]!, 'changed', { flag: 'r+' });
      expect(readFileSync(disks[1]!).subarray(0, 7).toString()).toBe('ROOTFS-');
      expect(readFileSync(join(snap!.dir, 'rootfs.ext4')).subarray(0, 7).toString()).toBe('ROOTFS-');
    } finally {
      await Promise.all(clones.map((c) => c.stop()));
      for (const d of dirs) d.remove();
    }
  });

  it('deleting the image deletes its snapshots: a re-created image starts with a new template', async () => {
    expect(snapshotsOf().length).toBeGreaterThan(0);
    rmSync(join(imagesDir, IMAGE_ID), { recursive: true, force: true }); // what `image rm` does
    expect(existsSync(join(imagesDir, IMAGE_ID, 'snapshots'))).toBe(false);
    writeTestImage();
    const notices: string[] = [];
    const s = await start(notices);
    expect(notices.join('\n')).toMatch(/preparing a warm snapshot/);
    expect(s.restoredFrom).toMatch(/^fc-/);
    await s.close();
  });

  it('under the jailer: chroot-absolute paths, so every clone finds its own disk at the drive path the snapshot recorded', async () => {
    const base = join(root, 'jail');
    const jailFlags = {
      'firecracker.jailer': true,
      'firecracker.jailer_bin': FAKE_JAILER,
      'firecracker.jailer_chroot_base': base,
    };
    const from = entries().length;
    const notices: string[] = [];
    const s = await start(notices, false, jailFlags);
    expect(notices.join('\n')).toMatch(/preparing a warm snapshot/);
    const snapDir = join(imagesDir, IMAGE_ID, 'snapshots', s.restoredFrom!);
    expect(JSON.parse(readFileSync(join(snapDir, 'meta.json'), 'utf8'))).toMatchObject({ jailed: true });
    const [template, clone] = startsSince(from);
    const body = (pid: number, path: string): Record<string, unknown> =>
      JSON.parse(requestsOf(pid).find((e) => e.path === path)!.raw!) as Record<string, unknown>;
    expect(body(template!, '/drives/rootfs')).toMatchObject({ path_on_host: '/rootfs.ext4' });
    expect(body(template!, '/snapshot/create')).toEqual({
      snapshot_type: 'Full',
      snapshot_path: '/snapshot.vmstate',
      mem_file_path: '/snapshot.mem',
    });
    expect(body(clone!, '/snapshot/load')).toEqual({
      snapshot_path: '/snapshot.vmstate',
      mem_backend: { backend_type: 'File', backend_path: '/snapshot.mem' },
      vsock_override: { uds_path: '/vsock.sock' },
      resume_vm: true,
    });
    // The clone ran in its own chroot; the template's was gone by then, so /rootfs.ext4 was the clone's copy.
    const cloneRoot = entries().find((e) => e.event === 'start' && e.pid === clone)!.cwd!;
    const templateRoot = entries().find((e) => e.event === 'start' && e.pid === template)!.cwd!;
    expect(cloneRoot.startsWith(join(base, basename(FAKE_FC)))).toBe(true);
    expect(cloneRoot).not.toBe(templateRoot);
    expect(existsSync(templateRoot)).toBe(false);
    const disk = statSync(join(cloneRoot, 'rootfs.ext4'));
    expect([disk.uid, disk.mode & 0o777]).toEqual([65534, 0o600]);
    // The snapshot's files are hard-linked in, and stay ours: the jailed uid must not own the shared inode.
    const mem = statSync(join(cloneRoot, 'snapshot.mem'));
    expect(mem.ino).toBe(statSync(join(snapDir, 'vm.mem')).ino);
    expect(mem.uid).toBe(process.getuid!());
    expect(await guest(s, 'echo jailed')).toBe('jailed');
    await s.close();
    expect(readdirSync(join(base, basename(FAKE_FC)))).toEqual([]);
    expect(specErrors(entries())).toEqual([]);
  });

  it('--cold boots without looking at snapshots', async () => {
    const from = entries().length;
    const s = await start([], true);
    expect(s.restoredFrom).toBeUndefined();
    expect(startsSince(from)).toHaveLength(1);
    expect(
      entries()
        .slice(from)
        .some((e) => e.path?.startsWith('/snapshot')),
    ).toBe(false);
    await s.close();
  });
});
