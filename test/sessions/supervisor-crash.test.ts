/**
 * An uncaught exception in a named VM's supervisor while it starts — before its supervisor.log exists — is
 * not dropped: `run -d NAME` reports it (exit 70, the error and the supervisor's own log lines) instead of
 * succeeding or hanging, and nothing is left: no VMM, no per-VM dir. The exception is a real one in the real
 * supervisor process, injected with Node's own `--import` (NODE_OPTIONS, inherited by the supervisor) from
 * a module that throws from a timer only in the `__supervise` process: no test hook in VirtualGhost itself.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { eventually, processAlive } from '../helpers/cli-child.js';
import { said } from '../helpers/run-tool.js';
import { ghostPaths } from '../../src/host/store/paths.js';
import { existsSync } from 'node:fs';

const tmp = mkdtempSync(join(tmpdir(), 'vg-supcrash-'));
afterAll(async () => {
  for (const name of ['crashvm', 'crashearly']) await runCli(['stop', name]).catch(() => undefined);
  rmSync(tmp, { recursive: true, force: true });
});

/** A module for --import: in the supervisor of NAME, throws from a timer once `when` holds. */
function throwingHook(file: string, body: string): string {
  writeFileSync(file, `if (process.argv.includes('__supervise')) {\n${body}\n}\n`);
  return `--import=${pathToFileURL(file).href}`;
}

describe('supervisor: an uncaught exception while it starts', () => {
  it('after the VMM is spawned: run -d reports it (exit 70) and leaves no VMM and no per-VM dir', async () => {
    const name = 'crashvm';
    const owner = join(ghostPaths().vmsDir, name, 'owner.json');
    const pidFile = join(tmp, 'vmm.pid');
    const hook = throwingHook(
      join(tmp, 'after-vmm.mjs'),
      `
      const { readFileSync, writeFileSync } = await import('node:fs');
      const t = setInterval(() => {
        let rec;
        try { rec = JSON.parse(readFileSync(${JSON.stringify(owner)}, 'utf8')); } catch { return; }
        if (!rec.vmm) return;
        clearInterval(t);
        writeFileSync(${JSON.stringify(pidFile)}, String(rec.vmm.pid));
        throw new Error('boom: injected after the VMM started');
      }, 5);`,
    );
    const t0 = Date.now();
    const r = await runCli(['run', '-d', name], {
      env: { VIRTUALGHOST_ACCEL: 'tcg', NODE_OPTIONS: hook },
      timeoutMs: 100_000,
    });
    console.log(`run -d ended after ${Date.now() - t0} ms: ${said(r)}`);
    expect(r.code, said(r)).toBe(70);
    expect(r.stderr).toContain(`the supervisor of ${name} failed while starting, with an internal error`);
    expect(r.stderr).toContain('boom: injected after the VMM started');
    // Its log (on stderr until the per-VM dir's log exists) reached the user, stack included.
    expect(r.stderr).toMatch(/Its log:\n.*internal error: Error: boom: injected after the VMM started\n\s+at /);
    expect(r.stdout.toString()).toBe('');
    const vmm = Number(readFileSync(pidFile, 'utf8'));
    expect(await eventually(() => !processAlive(vmm), 5_000), `QEMU ${vmm} still running`).toBe(true);
    expect(existsSync(join(ghostPaths().vmsDir, name))).toBe(false);
    const ps = await runCli(['ps', '--json']);
    expect(JSON.parse(ps.stdout.toString())).toEqual([]);
  });

  it('before our handler is installed (Node itself reports it): run -d fails with what the supervisor printed', async () => {
    const hook = throwingHook(
      join(tmp, 'at-once.mjs'),
      "setTimeout(() => { throw new Error('boom: injected at start-up'); }, 0);",
    );
    const r = await runCli(['run', '-d', 'crashearly'], {
      env: { VIRTUALGHOST_ACCEL: 'tcg', NODE_OPTIONS: hook },
      timeoutMs: 60_000,
    });
    expect(r.code, said(r)).not.toBe(0);
    expect(r.stderr).toContain('the supervisor of crashearly exited while starting');
    expect(r.stderr).toContain('boom: injected at start-up');
    expect(existsSync(join(ghostPaths().vmsDir, 'crashearly'))).toBe(false);
  });
});
