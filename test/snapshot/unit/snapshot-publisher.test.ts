/**
 * The one way a warm snapshot reaches the cache, for both backends: concurrent requests share one
 * template, a failed build leaves nothing, a snapshot another process published first is used, and the
 * published files get the one mode policy (read-only 0444; owner-only 0600 for a file the VMM opens
 * read-write).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  publishSnapshot,
  SNAPSHOT_DIR_MODE,
  SNAPSHOT_FILE_MODE,
  SNAPSHOT_VMM_WRITABLE_MODE,
} from '../../../src/host/vm/snapshot-publisher.js';

const made: string[] = [];
afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

function root(): string {
  const d = mkdtempSync(join(tmpdir(), 'vg-publish-'));
  made.push(d);
  return join(d, 'snapshots');
}

class TestError extends Error {}
const common = (r: string, key: string) => ({
  root: r,
  key,
  find: () => (existsSync(join(r, key, 'state')) ? join(r, key) : undefined),
  fail: (message: string) => new TestError(message),
  isOwnError: (err: unknown) => err instanceof TestError,
});

describe('publishSnapshot', () => {
  it('builds once for concurrent callers, seals the files and renames the dir into place', async () => {
    const r = root();
    let builds = 0;
    const req = {
      ...common(r, 'k1'),
      build: async (tmp: string) => {
        builds++;
        await new Promise((res) => setTimeout(res, 50));
        writeFileSync(join(tmp, 'state'), 's');
        writeFileSync(join(tmp, 'memory'), 'm');
        return { sealed: [join(tmp, 'state')], vmmWritable: [join(tmp, 'memory')] };
      },
    };
    const [a, b] = await Promise.all([publishSnapshot(req), publishSnapshot(req)]);
    expect(builds).toBe(1);
    expect(a).toBe(join(r, 'k1'));
    expect(b).toBe(a);
    expect(readdirSync(r)).toEqual(['k1']);
    expect(statSync(join(r, 'k1')).mode & 0o777).toBe(SNAPSHOT_DIR_MODE);
    expect(statSync(join(r, 'k1', 'state')).mode & 0o777).toBe(SNAPSHOT_FILE_MODE);
    expect(statSync(join(r, 'k1', 'memory')).mode & 0o777).toBe(SNAPSHOT_VMM_WRITABLE_MODE);
  });

  it('a failed build leaves no temp dir, and its error is wrapped by the backend', async () => {
    const r = root();
    const err = await publishSnapshot({
      ...common(r, 'k2'),
      build: () => Promise.reject(new Error('qemu died')),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TestError);
    expect((err as Error).message).toBe('could not create a warm snapshot: qemu died');
    expect(readdirSync(r)).toEqual([]);
  });

  it('uses a snapshot another process published meanwhile, and removes its own copy', async () => {
    const r = root();
    const got = await publishSnapshot({
      ...common(r, 'k3'),
      build: (tmp: string) => {
        // The other process wins the rename while we are still saving.
        mkdirSync(join(r, 'k3'));
        writeFileSync(join(r, 'k3', 'state'), 'theirs');
        writeFileSync(join(r, 'k3', 'x'), 'x');
        writeFileSync(join(tmp, 'state'), 'ours');
        return Promise.resolve({ sealed: [join(tmp, 'state')] });
      },
    });
    expect(got).toBe(join(r, 'k3'));
    expect(readdirSync(r)).toEqual(['k3']);
    expect(readdirSync(join(r, 'k3')).sort()).toEqual(['state', 'x']);
  });

  it('a snapshot that is not usable right after publishing is an error, not a silent cold path', async () => {
    const r = root();
    const err = await publishSnapshot({ ...common(r, 'k4'), build: () => Promise.resolve({ sealed: [] }) }).catch(
      (e: unknown) => e,
    );
    expect((err as Error).message).toMatch(/warm snapshot k4 in .* vanished or was damaged right after it was saved/);
  });
});
