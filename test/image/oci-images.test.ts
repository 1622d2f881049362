/**
 * OCI images as the root filesystem, in real VMs (QEMU TCG): a static-busybox image with no libc, a musl
 * image, and a Debian one, each built here as an OCI layout (helpers/oci-images.ts). For each, a named VM
 * booted from it: `exec` runs a command with the image's Env, User and WorkingDir, and a shell in the
 * TUI (tmux attach) shows the same. The busybox image is converted once and gets its own warm snapshot:
 * its VM is restored from it, and so is a throw-away `exec` without a command (the image's Cmd). A
 * `docker save` archive of it boots too, and bad sources leave nothing in the image cache.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ghostPaths } from '../../src/host/store/paths.js';
import { runCli } from '../helpers/cli.js';
import { currentImage } from '../helpers/image.js';
import { startNamedVm } from '../helpers/named-vm.js';
import { dockerSaveTar, makeTar, writeLayout } from '../helpers/oci-build.js';
import { buildTestImages, type TestImages } from '../helpers/oci-images.js';
import { tmuxPane } from '../helpers/tmux-pane.js';

const repo = join(import.meta.dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'vg-oci-images-'));
const socket = `vg-oci-${process.pid}`;
let images: TestImages;
const TCG = { VIRTUALGHOST_ACCEL: 'tcg' };

beforeAll(async () => {
  images = buildTestImages(tmp, await currentImage());
}, 180_000);
afterAll(() => {
  try {
    tmuxPane(socket, 'x').tmux('kill-server');
  } catch {
    /* no server */
  }
  rmSync(tmp, { recursive: true, force: true });
});

const imagesDir = (): string => ghostPaths().imagesDir;
const cacheEntries = (): string[] => (existsSync(imagesDir()) ? readdirSync(imagesDir()).sort() : []);

/** Attaches to VM `name` in a tmux pane, types `command`, waits for `expected`, detaches (prefix d). */
async function tuiShows(name: string, command: string, expected: RegExp): Promise<string> {
  const env = ['XDG_RUNTIME_DIR', 'XDG_CONFIG_HOME', 'XDG_STATE_HOME', 'XDG_CACHE_HOME', 'HOME', 'PATH']
    .filter((k) => process.env[k])
    .map((k) => `${k}=${process.env[k]}`);
  const pane = tmuxPane(socket, name);
  pane.tmux(
    'new-session',
    '-d',
    '-s',
    name,
    '-x',
    '100',
    '-y',
    '30',
    `cd ${repo} && env ${env.join(' ')} TERM=tmux-256color node bin/virtualghost.js attach ${name}; sleep 600`,
  );
  await pane.waitFor((s) => /[#$] ?\s*$/m.test(s) && s.includes('qemu/tcg'), 'a prompt and the status line', 60_000);
  pane.type(command);
  const screen = await pane.waitFor((s) => expected.test(s), `${expected} on the screen`, 30_000);
  pane.tmux('send-keys', '-t', name, 'C-]', 'd');
  pane.tmux('kill-session', '-t', name);
  return screen;
}

const PROBE = 'echo "greeting=$GREETING uid=$(id -u) cwd=$(pwd) shell=$SHELL"';

describe('OCI images in real VMs', () => {
  it('static busybox (no libc): converted once, its Cmd, its own warm snapshot, exec with its Env and WorkingDir, a TUI shell', async () => {
    // The first use converts it, makes its warm snapshot and runs the image's Cmd (exec with no command).
    const cmd = await runCli(['exec', '--image', `oci:${images.busybox}`], { env: TCG, timeoutMs: 500_000 });
    expect(cmd.stderr).toMatch(/converting oci:.*busybox \(sha256:[0-9a-f]{64}\)/);
    expect([cmd.code, cmd.stdout.toString()]).toEqual([0, 'from-cmd\n']);
    // A second use of the same digest is not converted again: the same image, restored from its snapshot.
    const before = cacheEntries();
    const vm = await startNamedVm('oci-busybox', ['--image', `oci:${images.busybox}`]);
    try {
      expect(cacheEntries()).toEqual(before);
      // Restored from the image's own warm snapshot: the VM's record says from which, and on which image.
      const rec = JSON.parse(readFileSync(join(ghostPaths().vmsDir, vm.name, 'vm.json'), 'utf8')) as {
        restoredFrom?: string;
        imageId: string;
      };
      expect(rec.restoredFrom).toBeTruthy();
      expect(before).toContain(rec.imageId);
      const r = await runCli([
        'exec',
        vm.name,
        '--',
        'sh',
        '-c',
        `${PROBE}; cat /etc/motd; ls /etc/group 2>&1; ls /lib 2>&1`,
      ]);
      expect(r.stderr).toBe('');
      const out = r.stdout.toString();
      expect(out).toContain('greeting=hello-busybox uid=0 cwd=/srv shell=/bin/sh\nupper layer\n');
      expect(out).toMatch(/\/etc\/group: No such file or directory/); // the upper layer's whiteout
      expect(out).toMatch(/\/lib: No such file or directory/); // no libc: ours lives under /opt/ghostly only
      // cp goes through OpenSSH's sftp-server, which runs through the injected loader (the image has no libc).
      const local = join(tmp, 'to-guest.txt');
      writeFileSync(local, 'copied in\n');
      const cpIn = await runCli(['cp', local, `${vm.name}:/tmp/in.txt`]);
      expect([cpIn.code, cpIn.stderr]).toEqual([0, '']);
      const back = join(tmp, 'from-guest.txt');
      const cpOut = await runCli(['cp', `${vm.name}:/tmp/in.txt`, back]);
      expect(cpOut.code).toBe(0); // (its stderr may carry Node's MaxListenersExceededWarning, as with any image)
      expect(readFileSync(back, 'utf8')).toBe('copied in\n');
      const screen = await tuiShows(vm.name, 'echo "tui-$GREETING"', /^tui-hello-busybox\s*$/m);
      expect(screen).toContain('tui-hello-busybox');
    } finally {
      await vm.stop();
    }
  }, 900_000);

  it('musl: a musl-linked program runs beside our glibc Node; the image User and WorkingDir apply', async () => {
    const vm = await startNamedVm('oci-musl', ['--cold', '--image', `oci:${images.musl}`], 400_000);
    try {
      const r = await runCli(['exec', vm.name, '--', 'sh', '-c', `${PROBE}; hello-musl; id -un`]);
      expect(r.stderr).toBe('');
      expect(r.stdout.toString()).toBe(
        'greeting=hello-musl uid=1000 cwd=/home/app shell=/bin/sh\nmusl says hello-musl\napp\n',
      );
      await tuiShows(vm.name, 'hello-musl; echo "tui-$(id -u)"', /^tui-1000\s*$/m);
    } finally {
      await vm.stop();
    }
  }, 600_000);

  it("Debian (glibc, bash): exec and a TUI shell; the image's files are not changed by the injection", async () => {
    const vm = await startNamedVm('oci-debian', ['--cold', '--image', `oci:${images.debian}`], 400_000);
    try {
      const r = await runCli([
        'exec',
        vm.name,
        '--',
        'bash',
        '-c',
        `${PROBE}; ls /usr/local/bin; test -e /usr/bin/tini && echo has-tini; ls /opt/ghostly/bin | tr '\\n' ' '`,
      ]);
      expect(r.stderr).toBe('');
      const out = r.stdout.toString();
      expect(out).toContain('greeting=hello-debian uid=0 cwd=/root shell=/bin/bash\n');
      expect(out).toContain('has-tini'); // the image's own tini is still there, unused
      expect(out).not.toMatch(/^node$/m); // the Debian image's /usr/local/bin/node was left out of the layer
      expect(out).toContain('busybox');
      await tuiShows(vm.name, 'echo "tui-$GREETING-$BASH_VERSION"', /^tui-hello-debian-5\./m);
    } finally {
      await vm.stop();
    }
  }, 600_000);

  it('a docker save archive boots as well', async () => {
    const archive = join(tmp, 'saved.tar');
    // The busybox image's layers again, as docker save writes them (plain tars, manifest.json).
    writeFileSync(
      archive,
      dockerSaveTar({
        layers: [makeTar([{ path: 'bin/', type: 'Directory' }]), busyboxLayerTar()],
        config: { Env: ['PATH=/bin', 'GREETING=from-archive'] },
      }),
    );
    const r = await runCli(
      ['exec', '--cold', '--image', `docker-archive:${archive}`, '--', 'sh', '-c', 'echo $GREETING'],
      {
        env: TCG,
        timeoutMs: 300_000,
      },
    );
    expect([r.code, r.stdout.toString()]).toEqual([0, 'from-archive\n']);
  }, 600_000);

  it('bad sources: exit 65 naming the path or digest, and nothing left in the cache', async () => {
    const before = cacheEntries();
    const notImage = join(tmp, 'not-an-image.tar');
    writeFileSync(notImage, makeTar([{ path: 'README', data: 'hello' }]));
    const evil = join(tmp, 'evil');
    const { layerDigests } = writeLayout(evil, {
      layers: [
        makeTar([
          { path: 'bin/', type: 'Directory' },
          { path: '../../../tmp/vg-escaped', data: 'x' },
        ]),
      ],
    });
    const corrupt = join(tmp, 'corrupt');
    const bad = writeLayout(corrupt, { layers: [makeTar([{ path: 'f', data: 'good bytes' }])] });
    const badDigest = bad.layerDigests[0] as string;
    const bytes = readFileSync(bad.blob(badDigest));
    bytes[520] = (bytes[520] ?? 0) ^ 1; // same size, one bit off
    writeFileSync(bad.blob(badDigest), bytes);
    const arm = join(tmp, 'arm64');
    writeLayout(arm, { layers: [makeTar([{ path: 'f', data: 'x' }])] });
    const index = JSON.parse(readFileSync(join(arm, 'index.json'), 'utf8')) as {
      manifests: Array<{ platform: { architecture: string } }>;
    };
    for (const m of index.manifests) m.platform.architecture = 'arm64';
    writeFileSync(join(arm, 'index.json'), JSON.stringify(index));
    const cases: Array<[string, string]> = [
      [`oci:${corrupt}`, `layer ${badDigest}: blob ${bad.blob(badDigest)} does not match its digest`],
      [`oci:${arm}`, `${arm} has no linux/amd64 image manifest`],
      [`docker-archive:${notImage}`, `${notImage} is not a docker save archive: it has no manifest.json`],
      [`oci:${evil}`, `layer ${layerDigests[0]}: entry "../../../tmp/vg-escaped" has a \`..\` component`],
    ];
    for (const [image, message] of cases) {
      const r = await runCli(['exec', '--image', image, '--', 'true'], { env: TCG });
      expect([r.code, r.stderr]).toEqual([65, expect.stringContaining(message)]);
    }
    expect(existsSync('/tmp/vg-escaped')).toBe(false);
    expect(cacheEntries()).toEqual(before);
  }, 300_000);
});

/** A layer with the static busybox as /bin/busybox and /bin/sh (docker save stores layers uncompressed). */
function busyboxLayerTar(): Buffer {
  return makeTar([
    { path: 'bin/busybox', data: readFileSync('/bin/busybox'), mode: 0o755 },
    { path: 'bin/sh', type: 'SymbolicLink', linkpath: 'busybox' },
    { path: 'bin/echo', type: 'SymbolicLink', linkpath: 'busybox' },
  ]);
}
