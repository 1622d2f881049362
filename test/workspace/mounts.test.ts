/**
 * Mounts (`-v HOST_DIR:GUEST_DIR[:ro]`, config `[[mounts]]`) on real QEMU VMs:
 *
 * - Bad input is refused with exit 65, naming the value, before anything exists: a missing host dir, a
 *   file where a dir is needed, a relative guest path, one under /proc, /sys or /dev, `/` itself, the
 *   same guest dir twice, a relative host dir in a `[[mounts]]` table; on `exec`, `run -d NAME` and
 *   `run`. No per-VM dir and no VMM is left. On Firecracker, -v is a reviewed copy (named VMs: 69).
 * - As a real non-root user (created here; QEMU runs as that user): one `exec` with a rw and a ro mount,
 *   started warm (that user's first run makes its snapshot, then restores a clone, whose idle 9p slots
 *   get the real dirs). The guest (root) sees the host's file, writes files, a dir and a symlink and
 *   chowns one to root: on the host they are the invoking user's, nothing is root's. `mount -o
 *   remount,rw` of the ro mount succeeds in the guest, yet writes and deletes there still fail. A host
 *   symlink inside the export that points outside it leads the guest to its own files, never the host's.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ghostPaths } from '../../src/host/store/paths.js';
import { BIN, runCli } from '../helpers/cli.js';
import { runTool, said } from '../helpers/run-tool.js';

const work = mkdtempSync('/tmp/vg-mounts-');
chmodSync(work, 0o755);
const users: string[] = [];
afterAll(() => {
  for (const name of users) spawnSync('userdel', [name]);
  rmSync(work, { recursive: true, force: true });
});

function vmDirs(): string[] {
  const dir = ghostPaths().vmsDir;
  return existsSync(dir) ? readdirSync(dir) : [];
}

describe('bad mounts: exit 65 before any VM exists', () => {
  const hostDir = join(work, 'ok');
  const file = join(work, 'a-file');
  mkdirSync(hostDir);
  writeFileSync(file, 'x');
  const cases: Array<[string, string[], RegExp]> = [
    ['a missing host dir', ['-v', `${work}/nope:/work`], /host dir \/tmp\/vg-mounts-\w+\/nope does not exist/],
    ['a file as the host dir', ['-v', `${file}:/work`], /a-file is not a directory/],
    ['a relative guest dir', ['-v', `${hostDir}:work`], /guest dir "work" is not an absolute path/],
    ['a guest dir under /proc', ['-v', `${hostDir}:/proc/x`], /guest dir \/proc\/x is under \/proc/],
    ['a guest dir under /sys', ['-v', `${hostDir}:/sys`], /guest dir \/sys is under \/sys/],
    ['a guest dir under /dev', ['-v', `${hostDir}:/dev/shm/`], /guest dir \/dev\/shm is under \/dev/],
    ["the guest's root", ['-v', `${hostDir}:/`], /cannot replace the guest's root dir/],
    [
      'the same guest dir twice',
      ['-v', `${hostDir}:/work`, '-v', `${work}:/work/`],
      /guest dir \/work is mounted twice/,
    ],
    ['a bad mode', ['-v', `${hostDir}:/work:rx`], /expected HOST_DIR:GUEST_DIR\[:ro\]/],
  ];
  for (const [what, flags, message] of cases)
    it(`${what}: exec, run -d NAME and run all exit 65 naming it`, async () => {
      for (const verb of [
        ['exec', ...flags, '--', 'true'],
        ['run', '-d', 'vgmnt', ...flags],
        ['run', '--raw', ...flags],
      ]) {
        const r = await runCli(verb, { timeoutMs: 30_000 });
        expect(r.code, said(r)).toBe(65);
        expect(r.stderr).toMatch(message);
      }
      expect(vmDirs()).toEqual([]);
    });

  it('a [[mounts]] table with a relative host dir, read from the config file: 65 naming the file', async () => {
    const cfgHome = mkdtempSync(join(work, 'cfg-'));
    mkdirSync(join(cfgHome, 'virtualghost'));
    writeFileSync(join(cfgHome, 'virtualghost', 'config.toml'), '[[mounts]]\nhost = "src"\nguest = "/work"\n');
    const r = await runCli(['exec', '--', 'true'], { env: { XDG_CONFIG_HOME: cfgHome }, timeoutMs: 30_000 });
    expect(r.code, said(r)).toBe(65);
    expect(r.stderr).toMatch(/config\.toml.*`mounts`.*host dir "src" is relative/s);
    expect(vmDirs()).toEqual([]);
  });

  it('on Firecracker, -v of a throw-away VM becomes a reviewed copy (said), of a named VM 69; a bad mount 65 first', async () => {
    // Firecracker cannot run on this machine: the exec ends with 69 once the backend is tried, but the
    // mount was taken as a copy-in by then (the review path itself runs on QEMU in test/spine/review*).
    const r = await runCli(['exec', '--backend', 'firecracker', '-v', `${hostDir}:/work`, '--', 'true'], {
      timeoutMs: 30_000,
    });
    expect(r.code, said(r)).toBe(69);
    expect(r.stderr).toMatch(/Firecracker has no shared file system: .*:\/work is copied into the VM now/);
    const named = await runCli(['run', '-d', 'fcmount', '--backend', 'firecracker', '-v', `${hostDir}:/work`], {
      timeoutMs: 30_000,
    });
    expect(named.code, said(named)).toBe(69);
    expect(named.stderr).toMatch(/a named VM on Firecracker cannot have mounts/);
    const bad = await runCli(['exec', '--backend', 'firecracker', '-v', `${work}/nope:/work`, '--', 'true']);
    expect(bad.code, said(bad)).toBe(65);
    expect(vmDirs()).toEqual([]);
  });
});

const isRoot = process.getuid?.() === 0;
const hasTools = ['useradd', 'userdel', 'setpriv'].every(
  (t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0,
);

describe.skipIf(!isRoot || !hasTools)('mounts on a real VM, run by a non-root user (warm start)', () => {
  it('rw: guest writes land as the invoking user; ro holds against remount,rw; host links lead nowhere', async () => {
    const name = `vg-test-mnt-${randomBytes(3).toString('hex')}`;
    const add = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', name], {
      encoding: 'utf8',
    });
    expect(add.status, add.stderr).toBe(0);
    users.push(name);
    const uid = Number(spawnSync('id', ['-u', name], { encoding: 'utf8' }).stdout.trim());
    const gid = Number(spawnSync('id', ['-g', name], { encoding: 'utf8' }).stdout.trim());

    // The user's own XDG dirs, with this run's images hard-linked in (no rebuild) and no snapshot.
    const home = join(work, 'home');
    const env = {
      HOME: home,
      XDG_CONFIG_HOME: join(home, 'config'),
      XDG_STATE_HOME: join(home, 'state'),
      XDG_CACHE_HOME: join(home, 'cache'),
      XDG_RUNTIME_DIR: join(home, 'run'),
      VIRTUALGHOST_ACCEL: 'tcg',
    };
    const ourCache = join(process.env['XDG_CACHE_HOME'] ?? '', 'virtualghost');
    const theirCache = join(env.XDG_CACHE_HOME, 'virtualghost');
    mkdirSync(join(theirCache, 'images'), { recursive: true });
    for (const f of ['kernel-package.json'])
      if (existsSync(join(ourCache, f))) copyFileSync(join(ourCache, f), join(theirCache, f));
    for (const id of readdirSync(join(ourCache, 'images'))) {
      if (id.startsWith('.') || !existsSync(join(ourCache, 'images', id, 'manifest.json'))) continue;
      mkdirSync(join(theirCache, 'images', id));
      for (const f of readdirSync(join(ourCache, 'images', id)))
        if (statSync(join(ourCache, 'images', id, f)).isFile())
          linkSync(join(ourCache, 'images', id, f), join(theirCache, 'images', id, f));
    }
    mkdirSync(env.XDG_RUNTIME_DIR, { mode: 0o700 });
    const rw = join(home, 'rw');
    const ro = join(home, 'ro');
    const secret = join(work, 'host-only');
    mkdirSync(rw, { recursive: true });
    mkdirSync(ro);
    mkdirSync(secret);
    writeFileSync(join(rw, 'in.txt'), 'from the host\n');
    writeFileSync(join(ro, 'keep.txt'), 'keep\n');
    writeFileSync(join(secret, 'secret.txt'), 'host secret\n');
    symlinkSync(secret, join(rw, 'outside'));
    spawnSync('chown', ['-R', `${uid}:${gid}`, home]);
    chmodSync(home, 0o700);

    const script = [
      'cat /work/in.txt',
      'echo made by guest root > /work/made.txt',
      'mkdir /work/dir && echo x > /work/dir/inner',
      'ln -s /etc/hostname /work/link',
      'chown 0:0 /work/made.txt; chmod 0644 /work/made.txt',
      'echo "outside: $(cat /work/outside/secret.txt 2>&1)"',
      'mount -o remount,rw /data && echo remounted',
      'grep " /data " /proc/mounts',
      'if echo x > /data/new.txt; then echo RO-WRITE-WORKED; fi',
      'if rm /data/keep.txt; then echo RO-DELETE-WORKED; fi',
      'if mkdir /data/d; then echo RO-MKDIR-WORKED; fi',
      'true',
    ].join('\n');
    // Async (not spawnSync): the worker must keep answering vitest while the VM runs.
    const run = await runTool(
      'setpriv',
      [
        `--reuid=${uid}`,
        `--regid=${gid}`,
        '--clear-groups',
        '--',
        process.execPath,
        BIN,
        'exec',
        '--verbose',
        '-v',
        `${rw}:/work`,
        '-v',
        `${ro}:/data:ro`,
        '--',
        'sh',
        '-c',
        script,
      ],
      { env: { PATH: '/usr/local/bin:/usr/bin:/bin', ...env }, timeoutMs: 300_000, cwd: work },
    );
    const r = { status: run.code, stdout: run.stdout.toString(), stderr: run.stderr };
    const out = `status ${r.status}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
    expect(r.status, out).toBe(0);
    // Warm: the snapshot was made for this user and the VM restored from it (no fallback to a cold boot).
    expect(r.stderr, out).toMatch(/preparing a warm snapshot/);
    expect(r.stderr, out).not.toMatch(/booting cold/);
    expect(r.stderr, out).toMatch(/ssh authenticated/);
    expect(r.stdout, out).toContain('from the host\n');
    // The host link points outside the export: the guest resolves it in its own tree (no such file there).
    expect(r.stdout, out).toMatch(/outside: .*No such file or directory/);
    expect(r.stdout, out).not.toContain('host secret');
    // ro: the guest may remount rw (its own view), but the export refuses every write.
    expect(r.stdout, out).toContain('remounted\n');
    expect(r.stdout, out).toMatch(/ \/data 9p rw,/);
    expect(r.stdout, out).not.toMatch(/RO-\w+-WORKED/);
    expect(r.stderr, out).toMatch(/Read-only file system/);
    expect(readdirSync(ro)).toEqual(['keep.txt']);
    expect(readFileSync(join(ro, 'keep.txt'), 'utf8')).toBe('keep\n');

    // rw: every entry the guest made is the invoking user's; nothing in the tree is root's.
    expect(readFileSync(join(rw, 'made.txt'), 'utf8')).toBe('made by guest root\n');
    expect(readFileSync(join(rw, 'dir', 'inner'), 'utf8')).toBe('x\n');
    expect(lstatSync(join(rw, 'link')).isSymbolicLink()).toBe(true);
    for (const entry of ['made.txt', 'dir', 'dir/inner', 'link']) {
      const st = lstatSync(join(rw, entry));
      expect({ entry, uid: st.uid, gid: st.gid }).toEqual({ entry, uid, gid });
    }
    const rootOwned = spawnSync('find', [rw, ro, '-user', 'root'], { encoding: 'utf8' }).stdout.trim();
    expect(rootOwned).toBe('');
    // Nothing of the VM is left in the user's runtime dir.
    const vms = join(env.XDG_RUNTIME_DIR, 'virtualghost', 'vms');
    expect(existsSync(vms) ? readdirSync(vms) : []).toEqual([]);
  }, 360_000);
});
