/**
 * `--image REF`: an image pulled from a real registry (docker-registry on 127.0.0.1, pushed by skopeo as
 * Docker v2 schema 2) is converted and boots in a real VM (QEMU TCG) with its config's Env; a registry
 * that cannot be reached is refused before anything is converted, leaving the image cache as it was. A
 * second run reuses the cached layers and the converted image.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, push, startRegistry, type Registry } from '../../../src/host/bench/local-registry.js';
import { ghostPaths } from '../../../src/host/store/paths.js';
import { runCli } from '../../helpers/cli.js';
import { currentImage } from '../../helpers/image.js';
import { makeTar, writeLayout } from '../../helpers/oci-build.js';

const TCG = { VIRTUALGHOST_ACCEL: 'tcg' };
let tmp: string;
let registry: Registry;
const imagesDir = (): string => ghostPaths().imagesDir;
const cacheEntries = (): string[] => (existsSync(imagesDir()) ? readdirSync(imagesDir()).sort() : []);

beforeAll(async () => {
  await currentImage(); // the Debian base (kernel, initramfs) every OCI image shares
  tmp = mkdtempSync(join(tmpdir(), 'vg-run-registry-'));
  registry = await startRegistry();
  writeLayout(join(tmp, 'busybox'), {
    layers: [
      makeTar([
        { path: 'bin/', type: 'Directory' },
        { path: 'bin/busybox', data: readFileSync('/bin/busybox'), mode: 0o755 },
        { path: 'bin/sh', type: 'SymbolicLink', linkpath: 'busybox' },
        { path: 'bin/echo', type: 'SymbolicLink', linkpath: 'busybox' },
      ]),
    ],
    gzip: true,
    config: { Env: ['PATH=/bin', 'GREETING=from-the-registry'] },
  });
  await push(join(tmp, 'busybox'), '', `${registry.host}/busybox:1`, { format: 'v2s2' });
}, 180_000);

afterAll(async () => {
  await registry?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('--image with a registry reference', () => {
  it('pulls, converts and boots the image, with its Env; image ls names the reference', async () => {
    const ref = `${registry.host}/busybox:1`;
    const r = await runCli(['exec', '--cold', '--image', ref, '--', 'sh', '-c', 'echo $GREETING'], {
      env: TCG,
      timeoutMs: 300_000,
    });
    expect([r.code, r.stdout.toString()], r.stderr).toEqual([0, 'from-the-registry\n']);
    expect(r.stderr).toContain(`pulling ${ref}`);
    const ls = await runCli(['image', 'ls']);
    expect(ls.stdout.toString()).toContain(ref);
    // Again: the manifest is asked for, the layers and the converted image are the cached ones.
    const again = await runCli(['exec', '--image', ref, '--', 'sh', '-c', 'echo $GREETING'], {
      env: TCG,
      timeoutMs: 300_000,
    });
    expect([again.code, again.stdout.toString()], again.stderr).toEqual([0, 'from-the-registry\n']);
    expect(again.stderr).not.toContain('converting');
    expect(again.stderr).toMatch(new RegExp(`pulling ${ref.replace(/[.]/g, '\\.')} (\\d+\\.\\d)/\\1 MB`));
  }, 600_000);

  it('an unreachable registry is exit 69 naming it, and the image cache is left as it was', async () => {
    const before = cacheEntries();
    const port = await freePort();
    const r = await runCli(['exec', '--image', `127.0.0.1:${port}/app:1`, '--', 'true'], { env: TCG });
    expect(r.code, r.stderr).toBe(69);
    expect(r.stderr).toContain(`cannot reach registry 127.0.0.1:${port}`);
    expect(cacheEntries()).toEqual(before);
  }, 120_000);
});
