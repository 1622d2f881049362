/** The per-VM dir as a lock: exclusive, owner recorded from the first instant, dead owners taken over. */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { createInstanceDir } from '../../../src/host/store/instance-dir.js';
import { OWNER_FILE, identify, readOwner } from '../../../src/host/store/process-identity.js';

const made: string[] = [];
const fresh = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'vg-claim-'));
  made.push(d);
  return d;
};
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

describe('claiming a per-VM dir', () => {
  it('appears with our owner record in it, and a second claim of a live one fails', () => {
    const vms = fresh();
    const dir = createInstanceDir(vms, 'one');
    expect(readOwner(dir.file(OWNER_FILE))?.host).toEqual(identify(process.pid));
    expect(() => createInstanceDir(vms, 'one')).toThrow(/a VM named one already exists \(owned by pid \d+\)/);
    dir.remove();
  });

  it('takes over a dir whose owner is dead (and leaves nothing else behind)', () => {
    const vms = fresh();
    const deadPid = Number(execFileSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).trim());
    mkdirSync(join(vms, 'stale'), { mode: 0o700 });
    writeFileSync(
      join(vms, 'stale', OWNER_FILE),
      JSON.stringify({ host: { pid: deadPid, start: 1 }, backend: 'qemu', createdAt: '' }),
    );
    writeFileSync(join(vms, 'stale', 'leftover.sock'), '');
    const dir = createInstanceDir(vms, 'stale');
    expect(readOwner(dir.file(OWNER_FILE))?.host.pid).toBe(process.pid);
    expect(existsSync(dir.file('leftover.sock'))).toBe(false);
    expect(readdirSync(vms)).toEqual(['stale']);
  });

  it('of many processes claiming one name at once, exactly one wins', async () => {
    const vms = fresh();
    // The claimants are separate Node processes, which cannot load TypeScript: give them this checkout's
    // src/ bundled by esbuild (not dist/, which may be a stale build under plain vitest).
    const bundle = join(fresh(), 'instance-dir.mjs');
    await build({
      entryPoints: [join(import.meta.dirname, '../../../src/host/store/instance-dir.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: bundle,
      logLevel: 'silent',
    });
    const mod = pathToFileURL(bundle).href;
    const script = `import(${JSON.stringify(mod)}).then(m => { try { m.createInstanceDir(${JSON.stringify(vms)}, 'contested'); process.stdout.write('won'); setTimeout(() => {}, 1500); } catch (e) { process.stdout.write(e.code); } })`;
    const results = await Promise.all(
      Array.from(
        { length: 8 },
        () =>
          new Promise<string>((resolve) => {
            const p = spawn(process.execPath, ['-e', script]);
            let out = '';
            p.stdout.on('data', (d: Buffer) => (out += d.toString()));
            p.on('close', () => resolve(out));
          }),
      ),
    );
    expect(results.filter((r) => r === 'won')).toHaveLength(1);
    expect(results.filter((r) => r === 'STORE_NAME_TAKEN')).toHaveLength(7);
    expect(readdirSync(vms)).toEqual(['contested']);
  });
});
