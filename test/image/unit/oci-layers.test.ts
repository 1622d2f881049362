/**
 * OCI layers applied to a real directory from real tar files (node-tar headers): whiteouts and opaque
 * dirs as the image spec says, owners/modes/links kept, and unsafe entries refused naming the layer
 * digest and the path, with nothing written outside the rootfs. Also the layout reader's digest check,
 * and `docker save` archives (good and not an image).
 */
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { applyLayer } from '../../../src/host/image/oci/apply-layer.js';
import { dockerArchiveToLayout } from '../../../src/host/image/oci/docker-archive.js';
import { readOciImage } from '../../../src/host/image/oci/layout.js';
import { dockerSaveTar, makeTar, writeLayout, type TarEntry } from '../../helpers/oci-build.js';

const tmp = mkdtempSync(join(tmpdir(), 'vg-oci-layers-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;

/** Applies `layers` in order into a fresh rootfs through a real layout (so digests are real too). */
async function build(layers: TarEntry[][], gzip = false): Promise<{ rootfs: string; digests: string[] }> {
  const dir = join(tmp, `img${n++}`);
  const { layerDigests } = writeLayout(join(dir, 'layout'), { layers: layers.map(makeTar), gzip });
  const image = await readOciImage(join(dir, 'layout'));
  const rootfs = join(dir, 'rootfs');
  mkdirSync(rootfs, { recursive: true });
  for (const l of image.layers) {
    await applyLayer(rootfs, l);
  }
  return { rootfs, digests: layerDigests };
}

describe('applying layers', () => {
  it('whiteouts delete lower entries and opaque dirs hide lower children, in either entry order', async () => {
    const { rootfs } = await build(
      [
        [
          { path: 'a/', type: 'Directory' },
          { path: 'a/x', data: 'x' },
          { path: 'a/y', data: 'y' },
          { path: 'b', data: 'b' },
          { path: 'c/', type: 'Directory' },
          { path: 'c/old', data: 'old' },
          { path: 'c/sub/', type: 'Directory' },
          { path: 'c/sub/deep', data: 'deep' },
          { path: 'd/', type: 'Directory' },
          { path: 'd/old', data: 'old' },
        ],
        [
          { path: 'a/.wh.x' },
          { path: '.wh.b' },
          { path: 'c/.wh..wh..opq' },
          { path: 'c/new', data: 'new' },
          // the opaque marker after this layer's own entries: they stay, the lower ones go
          { path: 'd/new', data: 'new' },
          { path: 'd/.wh..wh..opq' },
        ],
      ],
      true,
    );
    expect(readdirSync(join(rootfs, 'a'))).toEqual(['y']);
    expect(existsSync(join(rootfs, 'b'))).toBe(false);
    expect(readdirSync(join(rootfs, 'c'))).toEqual(['new']);
    expect(readdirSync(join(rootfs, 'd'))).toEqual(['new']);
    expect(readFileSync(join(rootfs, 'd', 'new'), 'utf8')).toBe('new');
  });

  it('keeps owners, modes (setuid too), symlinks and hard links; a later file replaces an earlier one', async () => {
    const { rootfs } = await build([
      [
        { path: 'bin/', type: 'Directory' },
        { path: 'bin/tool', data: '#!/bin/sh\n', mode: 0o4755, uid: 1234, gid: 2345 },
        { path: 'bin/alias', type: 'Link', linkpath: 'bin/tool' },
        { path: 'bin/sym', type: 'SymbolicLink', linkpath: '/etc/target' },
        { path: 'f', data: 'one' },
      ],
      [{ path: 'f', data: 'two', mode: 0o600 }],
    ]);
    const tool = statSync(join(rootfs, 'bin', 'tool'));
    expect([tool.uid, tool.gid, tool.mode & 0o7777]).toEqual([1234, 2345, 0o4755]);
    expect(statSync(join(rootfs, 'bin', 'alias')).ino).toBe(tool.ino);
    expect(readlinkSync(join(rootfs, 'bin', 'sym'))).toBe('/etc/target');
    expect(lstatSync(join(rootfs, 'bin', 'sym')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(rootfs, 'f'), 'utf8')).toBe('two');
    expect(statSync(join(rootfs, 'f')).mode & 0o777).toBe(0o600);
  });

  it('resolves a symlinked parent inside the rootfs: an absolute link points into it, never at the host', async () => {
    const { rootfs } = await build([
      [{ path: 'etc', type: 'SymbolicLink', linkpath: '/real-etc' }],
      [{ path: 'etc/conf', data: 'in' }],
    ]);
    expect(readFileSync(join(rootfs, 'real-etc', 'conf'), 'utf8')).toBe('in');
  });

  const escapes: Array<[string, TarEntry[][], string, RegExp]> = [
    ['a `..` path', [[{ path: '../escaped', data: 'x' }]], 'escaped', /"\.\.\/escaped" has a `\.\.` component/],
    ['an absolute path', [[{ path: '/abs-escaped', data: 'x' }]], 'abs-escaped', /"\/abs-escaped" is an absolute path/],
    [
      'a symlink that leads a later write out',
      [[{ path: 'out', type: 'SymbolicLink', linkpath: '../../..' }], [{ path: 'out/link-escaped', data: 'x' }]],
      'link-escaped',
      /"out\/link-escaped" leads out of the root filesystem/,
    ],
  ];
  for (const [what, layers, name, message] of escapes) {
    it(`refuses ${what}, naming the layer digest and the entry; nothing lands outside`, async () => {
      const err = await build(layers).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(err?.message).toMatch(message);
      expect(err?.message).toMatch(/^layer sha256:[0-9a-f]{64}: entry /);
      const dir = join(tmp, `img${n - 1}`);
      expect(existsSync(join(dir, name))).toBe(false);
      expect(existsSync(join(tmp, name))).toBe(false);
      expect(existsSync(join('/', name))).toBe(false);
    });
  }
});

describe('reading a layout', () => {
  it('refuses a blob whose content does not match its digest, naming the digest', async () => {
    const dir = join(tmp, 'corrupt');
    const { layerDigests, blob } = writeLayout(dir, { layers: [makeTar([{ path: 'f', data: 'good' }])] });
    const digest = layerDigests[0] as string;
    const bytes = readFileSync(blob(digest));
    bytes[600] = bytes[600] === 0x41 ? 0x42 : 0x41; // same size, other bytes
    writeFileSync(blob(digest), bytes);
    await expect(readOciImage(dir)).rejects.toThrow(`layer ${digest}: blob ${blob(digest)} does not match its digest`);
  });

  it('refuses a directory that is not an OCI layout', async () => {
    await expect(readOciImage(tmp)).rejects.toThrow(`${tmp} is not an OCI image layout: it has no oci-layout file`);
  });
});

describe('docker save archives', () => {
  it('become a layout with the same layers and config', async () => {
    const archive = join(tmp, 'saved.tar');
    writeFileSync(
      archive,
      dockerSaveTar({
        layers: [makeTar([{ path: 'hello', data: 'from docker' }])],
        config: { Env: ['A=1'], Cmd: ['/hello'] },
      }),
    );
    const layout = join(tmp, 'from-archive');
    mkdirSync(layout);
    await dockerArchiveToLayout(archive, layout);
    const image = await readOciImage(layout);
    expect(image.config).toEqual({ Env: ['A=1'], Cmd: ['/hello'] });
    const rootfs = join(tmp, 'from-archive-root');
    mkdirSync(rootfs);
    await applyLayer(rootfs, image.layers[0] as (typeof image.layers)[number]);
    expect(readFileSync(join(rootfs, 'hello'), 'utf8')).toBe('from docker');
  });

  it('a tar that is not an image is refused, naming the file', async () => {
    const archive = join(tmp, 'not-an-image.tar');
    writeFileSync(archive, makeTar([{ path: 'README', data: 'hi' }]));
    const layout = join(tmp, 'not-an-image');
    mkdirSync(layout);
    await expect(dockerArchiveToLayout(archive, layout)).rejects.toThrow(
      `${archive} is not a docker save archive: it has no manifest.json`,
    );
  });
});
