/**
 * The three OCI images the VM tests boot, built here as image layouts:
 * - busybox: Debian's static busybox and nothing else (no libc at all), gzip layers;
 * - musl: Debian's musl loader/libc and a program built with musl-gcc beside the same busybox, zstd layer;
 * - debian: the cached Debian image's own tree (debugfs rdump of its rootfs, our payload left out), plain tar.
 * Each config sets Env (GREETING) and the musl one a non-root User and a WorkingDir.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, rmSync, symlinkSync, writeFileSync, copyFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import type { CachedImage } from '../../src/host/image/cache.js';
import { writeLayout, type LayoutSpec } from './oci-build.js';

function tarOf(dir: string, excludes: string[] = []): Buffer {
  return execFileSync(
    'tar',
    ['-C', dir, '--numeric-owner', ...excludes.map((e) => `--exclude=${e}`), '-cf', '-', '.'],
    {
      maxBuffer: 1 << 30,
    },
  );
}

function busyboxTree(dir: string, users: string): void {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  copyFileSync('/bin/busybox', join(dir, 'bin', 'busybox'));
  chmodSync(join(dir, 'bin', 'busybox'), 0o755);
  for (const applet of execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n'))
    if (applet && applet !== 'busybox') symlinkSync('busybox', join(dir, 'bin', applet));
  for (const d of ['etc', 'root', 'srv', 'tmp']) mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(join(dir, 'etc', 'passwd'), `root:x:0:0:root:/root:/bin/sh\n${users}`);
  writeFileSync(join(dir, 'etc', 'group'), 'root:x:0:\napp:x:1000:\n');
}

export interface TestImages {
  busybox: string;
  musl: string;
  debian: string;
}

export function buildTestImages(tmp: string, debian: CachedImage): TestImages {
  const layout = (name: string, spec: LayoutSpec): string => {
    const dir = join(tmp, name);
    writeLayout(dir, spec);
    return dir;
  };

  const bb = join(tmp, 'tree-busybox');
  busyboxTree(bb, '');
  const busybox = layout('busybox', {
    // two layers, so a whiteout from the upper one is applied in a booted image as well
    layers: [tarOf(bb), makeUpper(tmp)],
    gzip: true,
    config: { Env: ['PATH=/bin', 'GREETING=hello-busybox'], WorkingDir: '/srv', Cmd: ['/bin/echo', 'from-cmd'] },
  });

  const mu = join(tmp, 'tree-musl');
  busyboxTree(mu, 'app:x:1000:1000:app:/home/app:/bin/sh\n');
  mkdirSync(join(mu, 'home', 'app'), { recursive: true });
  chownSync(join(mu, 'home', 'app'), 1000, 1000);
  mkdirSync(join(mu, 'lib'), { recursive: true });
  copyFileSync('/usr/lib/x86_64-linux-musl/libc.so', join(mu, 'lib', 'ld-musl-x86_64.so.1'));
  mkdirSync(join(mu, 'usr', 'bin'), { recursive: true });
  const src = join(tmp, 'hello-musl.c');
  writeFileSync(
    src,
    '#include <stdio.h>\n#include <stdlib.h>\nint main(void){printf("musl says %s\\n", getenv("GREETING"));return 0;}\n',
  );
  execFileSync('musl-gcc', ['-O2', '-o', join(mu, 'usr', 'bin', 'hello-musl'), src]);
  const musl = layout('musl', {
    layers: [tarOf(mu)],
    zstd: true,
    config: { Env: ['PATH=/usr/bin:/bin', 'GREETING=hello-musl'], User: 'app', WorkingDir: '/home/app' },
  });

  const deb = join(tmp, 'tree-debian');
  mkdirSync(deb);
  execFileSync('debugfs', ['-R', `rdump / ${deb}`, debian.rootfs], { stdio: 'ignore' });
  const debianLayout = layout('debian', {
    layers: [tarOf(deb, ['./opt/ghostly', './usr/local/bin/node', './lost+found'])],
    config: { Env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'GREETING=hello-debian'] },
  });
  for (const t of [bb, mu, deb]) rmSync(t, { recursive: true, force: true });
  return { busybox, musl, debian: debianLayout };
}

/** The busybox image's upper layer: a whiteout of /srv/gone (which the lower layer does not have) and a file. */
function makeUpper(tmp: string): Buffer {
  const dir = join(tmp, 'tree-upper');
  mkdirSync(join(dir, 'etc'), { recursive: true });
  writeFileSync(join(dir, 'etc', 'motd'), 'upper layer\n');
  writeFileSync(join(dir, 'etc', '.wh.group'), '');
  const t = tarOf(dir);
  rmSync(dir, { recursive: true, force: true });
  return t;
}
