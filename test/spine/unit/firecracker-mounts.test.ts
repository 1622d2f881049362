/**
 * On Firecracker (no shared file system) the `-v` mounts of a throw-away VM become `--review` copies: rw ones
 * reviewed with the given --on-exit, ro ones never applied; the session then carries no mounts, and a guest
 * dir given both ways is bad input (65). On QEMU nothing changes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { firecrackerMountReviews } from '../../../src/host/cli/firecracker-mounts.js';
import type { CliContext } from '../../../src/host/cli/context.js';
import { loadConfig } from '../../../src/host/config/load.js';
import { exitCodeFor } from '../../../src/host/cli/exit-codes.js';
import { ghostPaths } from '../../../src/host/store/paths.js';
import { parseReview } from '../../../src/host/review/spec.js';

const dir = mkdtempSync(join(tmpdir(), 'vg-fcmounts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ctx(flags: Record<string, unknown>): CliContext {
  return { paths: ghostPaths(), config: loadConfig(join(dir, 'none.toml'), {}, flags) };
}

describe('firecrackerMountReviews', () => {
  it('Firecracker: each mount is a review (ro never applied), the session has none, and a notice says so', () => {
    const said: string[] = [];
    const given = parseReview(`${dir}:/in`, 'apply');
    const r = firecrackerMountReviews(
      ctx({ backend: 'firecracker', mounts: [`${dir}:/src`, `${dir}:/data:ro`] }),
      given,
      (l) => said.push(l),
    );
    expect(r.ctx.config.values.mounts).toEqual([]);
    expect(r.reviews.map((x) => [x.guestDir, x.onExit.kind, x.readOnly ?? false])).toEqual([
      ['/in', 'apply', false],
      ['/src', 'apply', false],
      ['/data', 'discard', true],
    ]);
    expect(said.join('\n')).toMatch(
      /Firecracker has no shared file system: .*:\/src, .*:\/data:ro are copied into the VM now/,
    );
  });

  it('QEMU: mounts stay mounts', () => {
    const c = ctx({ backend: 'qemu', mounts: [`${dir}:/src`] });
    const r = firecrackerMountReviews(c, undefined, () => undefined);
    expect(r.ctx).toBe(c);
    expect(r.reviews).toEqual([]);
  });

  it('the same guest dir from --review and -v: exit 65, naming it', () => {
    let err: unknown;
    try {
      firecrackerMountReviews(
        ctx({ backend: 'firecracker', mounts: [`${dir}:/work`] }),
        parseReview(dir, undefined),
        () => undefined,
      );
    } catch (e) {
      err = e;
    }
    expect(String(err)).toMatch(/\/work is given twice/);
    expect(exitCodeFor(err)).toBe(65);
  });
});
