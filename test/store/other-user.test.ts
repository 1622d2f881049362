/**
 * Another local user against the runtime dirs, with real Unix users: the test (as root) creates a
 * throw-away victim A and attacker B (`useradd --system`), runs commands as them with setpriv, and
 * removes both afterwards, even on failure. Nothing here boots a VM.
 *
 * - B pre-creates A's fallback runtime dir /tmp/virtualghost-<A's uid> (0777, a symlink to B's dir, or
 *   B's own 0700): A's `ps`, `exec`, `stop`, `run -d`, `run` and `clean` (no XDG_RUNTIME_DIR) refuse with
 *   exit 77 and say what to do, and put nothing into B's dir; a `vms/` that B points at A's files does
 *   not make A's `clean` delete them.
 * - The same as root, the user the product runs as here, inside a private mount namespace with its own
 *   /tmp (the real /tmp/virtualghost-0 belongs to whoever runs VirtualGhost on this machine).
 * - A's own private tree, made by the product's code: B can neither read A's per-VM dir, files or
 *   socket nor plant an owner.json in it (EACCES).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';

const isRoot = process.getuid?.() === 0;
const hasTools = ['useradd', 'userdel', 'setpriv', 'unshare'].every(
  (t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0,
);
const why = !isRoot
  ? 'not root: creating Unix users needs root'
  : !hasTools
    ? 'useradd, userdel, setpriv or unshare is missing'
    : '';
if (why) console.warn(`other-user tests skipped: ${why}`);
/** The root-victim case needs a private /tmp: a mount namespace (CAP_SYS_ADMIN, which a container may lack). */
const canUnshare = why === '' && spawnSync('unshare', ['--mount', '--propagation', 'private', 'true']).status === 0;
if (why === '' && !canUnshare)
  console.warn('other-user test "root as the victim" skipped: unshare --mount is not permitted here');

const DIST = join(BIN, '..', '..', 'dist');
const REMEDY = 'remove it (or set XDG_RUNTIME_DIR to a private directory) and try again';
/** Each must stop at the runtime-dir check. The config names an image that does not exist, so a `run`
 *  that gets past the check fails fast (exit 66) instead of building one. */
const COMMANDS: ReadonlyArray<readonly string[]> = [
  ['ps'],
  ['exec', 'v3', '--', 'true'],
  ['stop', 'v3'],
  ['run', '-d', 'v3'],
  ['run', '--raw'],
  ['clean'],
];
const BOGUS_IMAGE_CONFIG = 'image = "0123456789abcdef"\n';

interface User {
  name: string;
  uid: number;
  gid: number;
}
interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

const users: User[] = [];
const children: ChildProcess[] = [];
const made: string[] = [];
let work = '';

function makeUser(role: string): User {
  const name = `vg-test-${role}-${randomBytes(3).toString('hex')}`;
  const add = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', name], {
    encoding: 'utf8',
  });
  if (add.status !== 0) throw new Error(`useradd ${name} failed: ${add.stderr}`);
  const id = (flag: string): number => Number(spawnSync('id', [flag, name], { encoding: 'utf8' }).stdout.trim());
  const user = { name, uid: id('-u'), gid: id('-g') };
  users.push(user);
  return user;
}

/** Runs argv as `user` (no supplementary groups) with exactly `env`. */
function as(user: User | 'root', argv: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 20_000): Result {
  const wrap =
    user === 'root' ? argv : ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--', ...argv];
  const r = spawnSync(wrap[0] ?? '', wrap.slice(1), {
    env: { PATH: '/usr/local/bin:/usr/bin:/bin', ...env },
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A home for `user` with a config that names a missing image (see COMMANDS); XDG_RUNTIME_DIR is unset. */
function homeFor(user: User, base: string): NodeJS.ProcessEnv {
  const home = mkdtempSync(join(base, 'home-'));
  mkdirSync(join(home, 'config', 'virtualghost'), { recursive: true });
  writeFileSync(join(home, 'config', 'virtualghost', 'config.toml'), BOGUS_IMAGE_CONFIG);
  spawnSync('chown', ['-R', `${user.uid}:${user.gid}`, home]);
  chmodSync(home, 0o700);
  return {
    HOME: home,
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_STATE_HOME: join(home, 'state'),
    XDG_CACHE_HOME: join(home, 'cache'),
  };
}

function cli(user: User | 'root', env: NodeJS.ProcessEnv, args: readonly string[]): Result {
  return as(user, [process.execPath, BIN, ...args], env);
}

describe.skipIf(why !== '')('another local user (real Unix users; skipped unless root)', () => {
  let a: User;
  let b: User;
  let aEnv: NodeJS.ProcessEnv;
  const fallback = (): string => `/tmp/virtualghost-${a.uid}`;

  beforeAll(() => {
    work = mkdtempSync('/tmp/vg-other-user-');
    chmodSync(work, 0o755); // A and B each need to reach their own dirs inside
    made.push(work);
    a = makeUser('a');
    b = makeUser('b');
    aEnv = homeFor(a, work);
    // A runs the CLI straight from this checkout: it (and node_modules) must be readable by other users.
    const version = cli(a, aEnv, ['--version']);
    if (version.code !== 0)
      throw new Error(
        `${a.name} cannot run ${BIN} (${version.stderr.trim()}): make the checkout and node_modules readable by other users`,
      );
    // The fallback dir of a fresh uid cannot exist yet; if it does, the test would prove nothing.
    if (existsSync(fallback())) throw new Error(`${fallback()} already exists; remove it and rerun`);
    made.push(fallback());
  });

  afterAll(() => {
    for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
    for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
    for (const u of users.splice(0)) spawnSync('userdel', [u.name]);
  });

  /** B's own directory, open to everyone as an attacker would leave it (so A could write into it). */
  function bDir(): string {
    const space = join(work, 'b-space');
    mkdirSync(space, { recursive: true });
    chownSync(space, b.uid, b.gid);
    const d = join(space, randomBytes(3).toString('hex'));
    expect(as(b, ['mkdir', '-m', '777', d]).code).toBe(0);
    return d;
  }

  function expectRefused(env: NodeJS.ProcessEnv, user: User | 'root', says: RegExp): void {
    for (const args of COMMANDS) {
      const r = cli(user, env, args);
      expect({ args, code: r.code }).toEqual({ args, code: 77 });
      expect(r.stderr).toMatch(says);
      expect(r.stderr).toContain(REMEDY);
    }
  }

  it('B pre-creates /tmp/virtualghost-<A> mode 0777: ps, exec, stop, run -d, run and clean refuse (77), nothing lands in it', () => {
    expect(as(b, ['mkdir', '-m', '777', fallback()]).code).toBe(0);
    try {
      expectRefused(aEnv, a, new RegExp(`${fallback()} is not a directory owned by uid ${a.uid}`));
      expect(readdirSync(fallback())).toEqual([]);
    } finally {
      rmSync(fallback(), { recursive: true, force: true });
    }
  });

  it("B pre-creates it as a symlink to B's dir: refused (77) without following it", () => {
    const target = bDir();
    expect(as(b, ['ln', '-s', target, fallback()]).code).toBe(0);
    try {
      expectRefused(aEnv, a, new RegExp(`${fallback()} is a symbolic link`));
      expect(readdirSync(target)).toEqual([]);
    } finally {
      rmSync(fallback(), { force: true });
    }
  });

  it('B pre-creates it as its own 0700 dir: refused (77), not an EACCES crash', () => {
    expect(as(b, ['mkdir', '-m', '700', fallback()]).code).toBe(0);
    try {
      expectRefused(aEnv, a, new RegExp(`${fallback()} is not a directory owned by uid ${a.uid}`));
    } finally {
      rmSync(fallback(), { recursive: true, force: true });
    }
  });

  it("B points a planted vms/ at A's own files: A's clean refuses (77) and deletes nothing", () => {
    const precious = join(work, 'a-precious');
    mkdirSync(join(precious, 'project'), { recursive: true });
    writeFileSync(join(precious, 'project', 'file'), 'data\n');
    spawnSync('chown', ['-R', `${a.uid}:${a.gid}`, precious]);
    expect(as(b, ['mkdir', '-m', '777', fallback()]).code).toBe(0);
    expect(as(b, ['ln', '-s', precious, join(fallback(), 'vms')]).code).toBe(0);
    try {
      const r = cli(a, aEnv, ['clean']);
      expect(r.code).toBe(77);
      expect(r.stderr).toContain(REMEDY);
      expect(readdirSync(precious)).toEqual(['project']);
      expect(readdirSync(join(precious, 'project'))).toEqual(['file']);
    } finally {
      rmSync(fallback(), { recursive: true, force: true });
    }
  });

  it.skipIf(!canUnshare)(
    "root as the victim (a private /tmp in a mount namespace): B's 0777 and symlinked /tmp/virtualghost-0 are refused (77)",
    () => {
      // One script in one namespace: B plants the dir, root runs each command; results come back as JSON.
      // The home lives in the namespace's own /tmp: the test's dirs under the real /tmp are not visible there.
      const script = `
      import { spawnSync } from 'node:child_process';
      import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
      const [b, commands] = [${JSON.stringify(b)}, ${JSON.stringify(COMMANDS)}];
      // A checkout under /tmp (a CI clone) is hidden by the private /tmp: reach it through the old /tmp's bind mount.
      const realBin = ${JSON.stringify(BIN)};
      const bin = realBin.startsWith('/tmp/') ? process.env.VG_OLD_TMP + realBin.slice(4) : realBin;
      const asB = (...argv) => spawnSync('setpriv', ['--reuid=' + b.uid, '--regid=' + b.gid, '--clear-groups', '--', ...argv]).status;
      const home = '/tmp/root-home';
      mkdirSync(home + '/config/virtualghost', { recursive: true, mode: 0o700 });
      writeFileSync(home + '/config/virtualghost/config.toml', ${JSON.stringify(BOGUS_IMAGE_CONFIG)});
      const env = { PATH: process.env.PATH, HOME: home, XDG_CONFIG_HOME: home + '/config', XDG_STATE_HOME: home + '/state', XDG_CACHE_HOME: home + '/cache' };
      const out = {};
      const run = (label) => {
        out[label] = commands.map((args) => {
          const r = spawnSync(process.execPath, [bin, ...args], { env, encoding: 'utf8', timeout: 10000, killSignal: 'SIGKILL' });
          return { args, code: r.status, stderr: r.stderr };
        });
      };
      if (asB('mkdir', '-m', '777', '/tmp/virtualghost-0') !== 0) throw new Error('B could not plant the dir');
      run('0777');
      out['0777-left'] = readdirSync('/tmp/virtualghost-0');
      spawnSync('rm', ['-rf', '/tmp/virtualghost-0']);
      if (asB('mkdir', '-m', '777', '/tmp/b-dir') !== 0 || asB('ln', '-s', '/tmp/b-dir', '/tmp/virtualghost-0') !== 0) throw new Error('B could not plant the link');
      run('symlink');
      out['symlink-left'] = readdirSync('/tmp/b-dir');
      console.log(JSON.stringify(out));
    `;
      // The old /tmp stays reachable at an empty dir made for it (removed below), for a checkout that lives there.
      const oldTmp = mkdtempSync('/dev/shm/vg-oldtmp-');
      let r: Result;
      try {
        r = as(
          'root',
          [
            'unshare',
            '--mount',
            '--propagation',
            'private',
            '--',
            'sh',
            '-c',
            'mount --bind /tmp "$VG_OLD_TMP" && mount -t tmpfs -o mode=1777 tmpfs /tmp && exec "$0" --input-type=module -e "$1"',
            process.execPath,
            script,
          ],
          { VG_OLD_TMP: oldTmp },
          100_000,
        );
      } finally {
        rmdirSync(oldTmp);
      }
      expect(r.stderr).toBe('');
      const out = JSON.parse(r.stdout) as Record<
        string,
        Array<{ args: string[]; code: number; stderr: string }> | string[]
      >;
      for (const [label, says] of [
        ['0777', /\/tmp\/virtualghost-0 is not a directory owned by uid 0/],
        ['symlink', /\/tmp\/virtualghost-0 is a symbolic link/],
      ] as const) {
        for (const c of out[label] as Array<{ args: string[]; code: number; stderr: string }>) {
          expect({ label, args: c.args, code: c.code }).toEqual({ label, args: c.args, code: 77 });
          expect(c.stderr).toMatch(says);
          expect(c.stderr).toContain(REMEDY);
        }
        expect(out[`${label}-left`]).toEqual([]);
      }
    },
  );

  it("A's own private tree: B cannot list, read or connect to anything in it, nor plant an owner.json", async () => {
    // A makes its runtime tree (the /tmp fallback: nothing above it is A's), a per-VM dir and a
    // supervisor socket with the product's own code, so every mode B meets is one the product chose.
    const base = fallback();
    const vmDir = join(base, 'vms', 'v3');
    const maker = `
      import { createInstanceDir } from ${JSON.stringify(join(DIST, 'host/store/instance-dir.js'))};
      import { ghostPaths } from ${JSON.stringify(join(DIST, 'host/store/paths.js'))};
      import { listenPrivate } from ${JSON.stringify(join(DIST, 'host/supervisor/private-socket.js'))};
      import { writeFileAtomic } from ${JSON.stringify(join(DIST, 'host/store/atomic-file.js'))};
      const paths = ghostPaths({ HOME: '/nonexistent' });
      if (paths.vmsDir !== ${JSON.stringify(join(base, 'vms'))}) throw new Error('unexpected runtime dir ' + paths.vmsDir);
      const dir = createInstanceDir(paths.vmsDir, 'v3');
      writeFileAtomic(dir.file('client_ed25519'), 'secret\\n', 0o600);
      const server = await listenPrivate(dir.file('supervisor.sock'), (s) => s.end('hello from A\\n'));
      console.log('ready');
      process.stdin.on('end', () => server.close()).resume(); // the test ends A's process by closing stdin
    `;
    const child = spawn(
      'setpriv',
      [
        `--reuid=${a.uid}`,
        `--regid=${a.gid}`,
        '--clear-groups',
        '--',
        process.execPath,
        '--input-type=module',
        '-e',
        maker,
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    children.push(child);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const ready = await new Promise<string>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('ready')) resolve('ready');
      });
      child.on('exit', (code) => resolve(`exited ${code}: ${stderr}`));
    });
    expect(ready).toBe('ready');
    expect(lstatSync(base).mode & 0o777).toBe(0o700);
    expect(lstatSync(base).uid).toBe(a.uid);
    expect(lstatSync(join(base, 'vms')).mode & 0o777).toBe(0o700);
    expect(lstatSync(vmDir).mode & 0o777).toBe(0o700);
    expect(lstatSync(join(vmDir, 'owner.json')).uid).toBe(a.uid);
    expect(lstatSync(join(vmDir, 'client_ed25519')).mode & 0o777).toBe(0o600);
    expect(lstatSync(join(vmDir, 'supervisor.sock')).mode & 0o777).toBe(0o600);

    // Everything B tries, from inside the tree outwards, fails with EACCES (the 0700 dirs stop it first).
    const probe = `
      import { openSync, readdirSync, renameSync, mkdirSync, writeFileSync } from 'node:fs';
      import { connect } from 'node:net';
      const [base, vmDir] = ${JSON.stringify([base, vmDir])};
      const tries = {
        'list the runtime dir': () => readdirSync(base),
        'list per-VM dir': () => readdirSync(vmDir),
        'read owner.json': () => openSync(vmDir + '/owner.json', 'r'),
        'read the client key': () => openSync(vmDir + '/client_ed25519', 'r'),
        'plant owner.json': () => writeFileSync(vmDir + '/owner.json', '{"host":{"pid":1,"start":1}}'),
        'plant a per-VM dir': () => mkdirSync(base + '/vms/v4'),
        'swap vms/': () => renameSync(base + '/vms', base + '/vms.old'),
      };
      const out = {};
      for (const [what, f] of Object.entries(tries)) {
        try { f(); out[what] = 'succeeded'; } catch (e) { out[what] = e.code; }
      }
      out['connect to supervisor.sock'] = await new Promise((resolve) => {
        const s = connect(vmDir + '/supervisor.sock');
        s.on('connect', () => { s.destroy(); resolve('connected'); });
        s.on('error', (e) => resolve(e.code));
      });
      console.log(JSON.stringify(out));
    `;
    const r = as(b, [process.execPath, '--input-type=module', '-e', probe]);
    expect(r.stderr).toBe('');
    child.stdin.end();
    expect(JSON.parse(r.stdout)).toEqual({
      'list the runtime dir': 'EACCES',
      'list per-VM dir': 'EACCES',
      'read owner.json': 'EACCES',
      'read the client key': 'EACCES',
      'plant owner.json': 'EACCES',
      'plant a per-VM dir': 'EACCES',
      'swap vms/': 'EACCES',
      'connect to supervisor.sock': 'EACCES',
    });
  });
});
