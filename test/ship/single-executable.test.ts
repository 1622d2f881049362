/**
 * The single executable as a user gets it (`npm run package`, issue #17 §1): copied alone into an empty
 * dir and run with a clean HOME and XDG dirs and a PATH of QEMU, qemu-img, setpriv and a few basic tools
 * only — no node, npm, mmdebstrap, gcc or apt — it must unpack its own image and run a real VM. The
 * executable is built once per test run (into the run's dir) from this checkout's dist/ and the run's
 * image cache (the image setup built, hard-linked: nothing is built here).
 * Cost here: packaging ≈ 15 s unloaded (≈ 55 s on a loaded machine: gzip of the image), first exec
 * ≈ 40 s (unpack ≈ 4 s, then a cold boot and the warm snapshot), the warm exec ≈ 4 s: ≈ 1–2 min.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readImage } from '../../src/host/image/cache.js';
import { findExecutable } from '../../src/host/vm/which.js';
import { said, type ToolResult } from '../helpers/run-tool.js';

const REPO = join(import.meta.dirname, '..', '..');
const PACKAGE_TIMEOUT = 300_000;
/** What the executable may find on PATH: the VMM, its disk tool, setpriv, and basic tools (QEMU's migrate runs `cat`). */
const PATH_TOOLS = ['qemu-system-x86_64', 'qemu-img', 'setpriv', 'sh', 'cat', 'ls', 'cp', 'rm', 'mkdir', 'uname'];

interface VersionJson {
  installForm: string;
  embedded: {
    assetsId: string;
    files: Record<string, string>;
    image: { id: string; kernelRelease: string; archiveBytes: number } | null;
  } | null;
}

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Runs `file` with exactly `env` (nothing inherited from this process). */
function runExact(file: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: err });
    });
  });
}

describe('the single executable (npm run package): alone, with QEMU and no Node on the host', () => {
  let dir = '';
  let exe = '';
  let env: NodeJS.ProcessEnv = {};
  const run = (args: string[], over: NodeJS.ProcessEnv = {}): Promise<ToolResult> =>
    runExact(exe, args, { ...env, ...over }, join(dir, 'exe'));

  beforeAll(async () => {
    const built = join(process.env['VG_TEST_ROOT'] ?? '', 'single-executable', 'virtualghost');
    if (!existsSync(built)) {
      mkdirSync(join(built, '..'), { recursive: true });
      const pack = await runExact(
        process.execPath,
        [join(REPO, 'scripts', 'package.mjs'), '--out', built],
        { ...process.env },
        REPO,
      );
      expect(pack.code, said(pack)).toBe(0);
    }
    dir = mkdtempSync(join(tmpdir(), 'vg-sea-'));
    for (const d of ['exe', 'bin', 'home', 'cache', 'config', 'state', 'run'])
      mkdirSync(join(dir, d), { recursive: true, mode: 0o700 });
    exe = join(dir, 'exe', 'virtualghost');
    copyFileSync(built, exe);
    for (const tool of PATH_TOOLS) {
      const at = findExecutable(tool);
      if (!at) throw new Error(`${tool} is not on PATH: npm test's setup installs it`);
      symlinkSync(at, join(dir, 'bin', tool));
    }
    env = {
      PATH: join(dir, 'bin'),
      HOME: join(dir, 'home'),
      XDG_CACHE_HOME: join(dir, 'cache'),
      XDG_CONFIG_HOME: join(dir, 'config'),
      XDG_STATE_HOME: join(dir, 'state'),
      XDG_RUNTIME_DIR: join(dir, 'run'),
    };
  }, PACKAGE_TIMEOUT);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the PATH it gets has none of node, npm, mmdebstrap, gcc or apt', () => {
    for (const tool of ['node', 'npm', 'mmdebstrap', 'gcc', 'cc', 'apt-cache', 'apt-get', 'tar', 'xz'])
      expect(findExecutable(tool, env['PATH']), tool).toBeUndefined();
  });

  it('version --json names the form and lists the embedded assets by sha256, and the image by id', async () => {
    const r = await run(['version', '--json']);
    expect(r.code, said(r)).toBe(0);
    const v = JSON.parse(r.stdout.toString()) as VersionJson;
    expect(v.installForm).toBe('single-executable');
    expect(v.embedded?.assetsId).toMatch(/^[0-9a-f]{16}$/);
    expect(v.embedded?.image?.id).toMatch(/^[0-9a-f]{16}$/);
    expect(v.embedded?.image?.kernelRelease).toMatch(/^\d+\.\d+\.\d+-\d+-amd64$/);
    // The very files this checkout ships to the guest, and the node running this test as the guest's runtime.
    expect(v.embedded?.files).toMatchObject({
      'dist/agent/ghostly-agent.cjs': sha256(join(REPO, 'dist', 'agent', 'ghostly-agent.cjs')),
      'dist/agent/ghostly-agent-loader.cjs': sha256(join(REPO, 'dist', 'agent', 'ghostly-agent-loader.cjs')),
      'guest-image/init.sh': sha256(join(REPO, 'guest-image', 'init.sh')),
      'guest-image/ghostly-helper.c': sha256(join(REPO, 'guest-image', 'ghostly-helper.c')),
      'node_modules/node-pty/build/Release/pty.node': sha256(
        join(REPO, 'node_modules', 'node-pty', 'build', 'Release', 'pty.node'),
      ),
      'node/bin/node': sha256(process.execPath),
    });
  });

  it('with apt on PATH it computes the recipe of its own image: the guest files it would build from are the ones it carries', async () => {
    const v = JSON.parse((await run(['version', '--json'])).stdout.toString()) as VersionJson;
    const r = await run(['version', '--json'], { PATH: process.env['PATH'] });
    expect(r.code, said(r)).toBe(0);
    expect((JSON.parse(r.stdout.toString()) as { imageRecipeId: string }).imageRecipeId).toBe(v.embedded?.image?.id);
  });

  it('doctor gives the single-executable advice: only what running VMs needs, nothing for building images', async () => {
    const r = await run(['doctor', '--json']);
    const report = JSON.parse(r.stdout.toString()) as {
      install: { form: string; root: string; missing: Array<{ package: string; need: string }> };
    };
    expect(report.install.form).toBe('single-executable');
    expect(report.install.root).toBe(exe);
    // PATH has QEMU and setpriv but no passt or git: what is missing is --net's NAT and --review's diffs.
    expect(report.install.missing.map((p) => p.package)).toEqual(['passt', 'git']);
    // The assets (extracted for the recipe, and read by doctor: host-packages.json) are private, under their id.
    const v = JSON.parse((await run(['version', '--json'])).stdout.toString()) as VersionJson;
    const assets = join(dir, 'cache', 'virtualghost', 'sea', v.embedded?.assetsId ?? '');
    expect(lstatSync(assets).mode & 0o777).toBe(0o700);
    expect(sha256(join(assets, 'node', 'bin', 'node'))).toBe(sha256(process.execPath));
    expect(sha256(join(assets, 'host-packages.json'))).toBe(sha256(join(REPO, 'host-packages.json')));
  });

  it('`exec -- uname -r` unpacks the image into the cache (sparse, under its id) and prints the guest kernel; the next exec is warm', async () => {
    const v = JSON.parse((await run(['version', '--json'])).stdout.toString()) as VersionJson;
    const image = v.embedded?.image;
    if (!image) throw new Error('the executable carries no image');
    const r = await run(['exec', '--', 'uname', '-r']);
    expect(r.code, said(r)).toBe(0);
    expect(r.stdout.toString().trim()).toBe(image.kernelRelease);
    expect(r.stderr).toMatch(/unpacking guest image \[1\/1\] .*\[#{20}\] 100%/);

    const imagesDir = join(dir, 'cache', 'virtualghost', 'images');
    const cached = readImage(imagesDir, image.id);
    expect(cached.state).toBe('ok');
    const rootfs = statSync(join(imagesDir, image.id, 'rootfs.ext4'));
    expect(rootfs.size).toBe(2 * 1024 ** 3);
    expect(rootfs.blocks * 512).toBeLessThan(rootfs.size / 2);

    const warm = await run(['exec', '--', 'true']);
    expect(warm.code, said(warm)).toBe(0);
    expect(warm.stderr).not.toMatch(/unpacking|preparing a warm snapshot/);
  });

  it('an executable cut short is refused with what to do, and leaves nothing in the cache', async () => {
    const cut = join(dir, 'exe', 'cut');
    copyFileSync(exe, cut);
    truncateSync(cut, statSync(cut).size - 1);
    const cache = join(dir, 'cache-cut');
    const r = await runExact(cut, ['exec', '--', 'true'], { ...env, XDG_CACHE_HOME: cache }, join(dir, 'exe'));
    expect(r.code, said(r)).toBe(66);
    expect(r.stderr).toMatch(/should end in guest image [0-9a-f]{16} but does not: .*download or build it again/);
    const images = join(cache, 'virtualghost', 'images');
    expect(existsSync(images) ? readdirSync(images) : []).toEqual([]);
    rmSync(cut);
  });
});
