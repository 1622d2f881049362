/**
 * `--review` figures on a real (warm-restored) VM: time from the session's end to the review screen for
 * a change set of `files` new small files (the guest lists and hashes /work and streams the listing and
 * every changed file back on one exec; the host stages and summarises them), next to the same with no
 * change (the fixed cost: one exec of the guest's Node).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Workspace } from '../review/workspace.js';
import { summaryLines } from '../review/screen.js';
import type { VmSession } from '../session.js';

export interface ReviewFigures {
  changedMs: number[];
  emptyMs: number[];
}

async function toScreenMs(ws: Workspace, s: VmSession): Promise<number> {
  const ssh = s.ssh;
  if (!ssh) throw new Error('no ssh');
  const t0 = performance.now();
  const got = await ws.collect(ssh);
  summaryLines(got.changes, { colour: true });
  const ms = performance.now() - t0;
  got.staging.remove();
  return ms;
}

export async function reviewFigures(s: VmSession, files: number, runs: number): Promise<ReviewFigures> {
  const ssh = s.ssh;
  if (!ssh) throw new Error('no ssh');
  const dir = mkdtempSync(join(tmpdir(), 'virtualghost-bench-review-'));
  try {
    const ws = new Workspace({ hostDir: dir, guestDir: '/work', onExit: { kind: 'discard' } }, () => undefined);
    await ws.copyIn(ssh);
    const emptyMs: number[] = [];
    for (let i = 0; i < runs; i++) emptyMs.push(await toScreenMs(ws, s));
    await new Promise<void>((resolve, reject) =>
      ssh.exec(
        `cd /work && for i in $(seq 1 ${files}); do echo "file $i of the change set" > f$i.txt; done`,
        (err, ch) => (err ? reject(err) : ch.on('close', () => resolve()).resume()),
      ),
    );
    const changedMs: number[] = [];
    for (let i = 0; i < runs; i++) changedMs.push(await toScreenMs(ws, s));
    return { changedMs, emptyMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
