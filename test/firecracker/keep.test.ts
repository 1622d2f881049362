/**
 * `run NAME --keep` with the Firecracker backend, through the real CLI against the stand-in VMM. Firecracker
 * cannot keep a VM's disk, so the run is refused (exit 69) before any Firecracker process starts, and
 * nothing is left that `ps` would call kept. A VM kept earlier (on QEMU) is refused alike, its disk
 * untouched: never a boot from a throw-away disk while `ps` says kept.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { said } from '../helpers/run-tool.js';
import { FAKE_FC } from './helpers.js';
import { writeStandinImage } from './standin-image.js';

const root = mkdtempSync(join(tmpdir(), 'vg-fckeep-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const fcLog = join(root, 'fc.jsonl');
const env: NodeJS.ProcessEnv = {
  XDG_RUNTIME_DIR: join(root, 'run'),
  XDG_STATE_HOME: join(root, 'state'),
  XDG_CONFIG_HOME: join(root, 'config'),
  XDG_CACHE_HOME: join(root, 'cache'),
  VIRTUALGHOST_BACKEND: 'firecracker',
  VIRTUALGHOST_FIRECRACKER__BIN: FAKE_FC,
  VIRTUALGHOST_FIRECRACKER__KVM_CHECK: 'false',
  VIRTUALGHOST_IMAGE: writeStandinImage(join(root, 'cache')),
  FAKE_FC_LOG: fcLog,
};
mkdirSync(join(root, 'run'), { mode: 0o700 });
const keptDir = (name: string): string => join(root, 'state', 'virtualghost', 'vms', name);
/** Firecracker processes that got as far as serving their API (the stand-in logs each start). */
const fcStarts = (): number =>
  existsSync(fcLog)
    ? readFileSync(fcLog, 'utf8')
        .split('\n')
        .filter((l) => l.includes('"event":"start"')).length
    : 0;
const ps = async (): Promise<Array<Record<string, unknown>>> =>
  JSON.parse((await runCli(['ps', '--json'], { env })).stdout.toString()) as Array<Record<string, unknown>>;

describe('run NAME --keep on Firecracker', () => {
  it('is refused with exit 69 before anything boots, and leaves no kept VM behind', async () => {
    const r = await runCli(['run', 'fckeep', '--detach', '--keep'], { env });
    expect(r.code, said(r)).toBe(69);
    expect(r.stderr).toMatch(
      /the firecracker backend cannot keep a VM's disk: with --keep, VM fckeep would run on a disk that stop deletes\. Use `--backend qemu`/,
    );
    expect(fcStarts()).toBe(0);
    expect(existsSync(keptDir('fckeep'))).toBe(false);
    expect(existsSync(join(root, 'run', 'virtualghost', 'vms', 'fckeep'))).toBe(false);
    expect((await ps()).find((row) => row['name'] === 'fckeep')).toBeUndefined();
  });

  it('a VM kept earlier is not booted from a throw-away disk: refused, its disk and record untouched', async () => {
    const dir = keptDir('oldkeep');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const record = JSON.stringify({ name: 'oldkeep', vcpus: 1, memoryMiB: 384, imageId: 'current' });
    writeFileSync(join(dir, 'kept.json'), record);
    writeFileSync(join(dir, 'disk.qcow2'), "the user's files");
    const r = await runCli(['run', 'oldkeep', '--detach'], { env });
    expect(r.code, said(r)).toBe(69);
    expect(r.stderr).toMatch(
      /VM oldkeep has a kept disk from an earlier run, which the firecracker backend cannot boot; start it with `--backend qemu`/,
    );
    expect(fcStarts()).toBe(0);
    expect(readFileSync(join(dir, 'disk.qcow2'), 'utf8')).toBe("the user's files");
    expect(readFileSync(join(dir, 'kept.json'), 'utf8')).toBe(record);
    expect((await ps()).find((row) => row['name'] === 'oldkeep')).toMatchObject({
      state: 'stopped',
      kind: 'kept',
      memoryMiB: 384,
    });
  });
});
