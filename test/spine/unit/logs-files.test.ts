/**
 * `logs NAME` prints every log a VM can leave, for either backend: its VMM's (QEMU's, or Firecracker's
 * log and its stderr, where its panics and start-up errors go), the supervisor's, then the console.
 * A stopped kept VM is read from its state dir; no VM is needed to check which files are shown.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { INSTANCE_FILES } from '../../../src/host/store/instance-files.js';
import { runCli } from '../../helpers/cli.js';

const made: string[] = [];
afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('logs shows every log file of a VM', () => {
  it('a stopped kept Firecracker VM: firecracker.log, firecracker.stderr.log, supervisor.log, then the console', async () => {
    const root = mkdtempSync(join(tmpdir(), 'vg-logs-'));
    made.push(root);
    const kept = join(root, 'state', 'virtualghost', 'vms', 'fcvm');
    mkdirSync(kept, { recursive: true, mode: 0o700 });
    writeFileSync(join(kept, 'kept.json'), JSON.stringify({ name: 'fcvm', vcpus: 1, memoryMiB: 256, imageId: 'x' }));
    writeFileSync(join(kept, INSTANCE_FILES.firecrackerLog), 'fc api log line\n');
    writeFileSync(join(kept, INSTANCE_FILES.firecrackerStderr), 'thread main panicked\n');
    writeFileSync(join(kept, INSTANCE_FILES.supervisorLog), 'supervisor line\n');
    writeFileSync(join(kept, INSTANCE_FILES.console), 'guest console line\n');
    const env = { ...process.env, XDG_RUNTIME_DIR: join(root, 'run'), XDG_STATE_HOME: join(root, 'state') };
    const out = await runCli(['logs', 'fcvm'], { env });
    expect(out.code).toBe(0);
    const text = out.stdout.toString();
    const order = [
      '==> firecracker.log',
      'fc api log line',
      '==> firecracker.stderr.log',
      'thread main panicked',
      '==> supervisor.log',
      '==> console.log',
      'guest console line',
    ].map((s) => text.indexOf(s));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });
});
