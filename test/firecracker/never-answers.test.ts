/**
 * A guest that never answers is one failure with one exit code, whichever VMM runs it: 75 ("the VM did
 * not boot or its agent did not answer"). Here a real session against the Firecracker stand-in, whose
 * simulated guest listens on no vsock port (every CONNECT gets EOF, as from a guest whose agent never
 * started); the error the session throws is mapped by the CLI's own exitCodeFor.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT_CODES, exitCodeFor } from '../../src/host/cli/exit-codes.js';
import { loadConfig } from '../../src/host/config/load.js';
import { VmSession } from '../../src/host/session.js';
import { ghostPaths } from '../../src/host/store/paths.js';
import { FAKE_FC, isAlive } from './helpers.js';
import { writeStandinImage } from './standin-image.js';

const root = mkdtempSync(join(tmpdir(), 'vg-fcsilent-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('a Firecracker guest that never answers', () => {
  it('fails the boot with exit 75, as on QEMU, and leaves no VMM or per-VM dir', async () => {
    const cacheHome = join(root, 'cache');
    const image = writeStandinImage(cacheHome);
    const paths = ghostPaths({ ...process.env, XDG_CACHE_HOME: cacheHome });
    const config = loadConfig(
      paths.configFile,
      {},
      { backend: 'firecracker', 'firecracker.bin': FAKE_FC, 'firecracker.kvm_check': false, image },
    );
    const name = `fcsilent-${process.pid}`;
    const log = join(root, 'fc.jsonl');
    // The stand-in inherits our environment: its simulated guest listens on nothing, and it logs its start.
    const saved = { ports: process.env['FAKE_FC_GUEST_PORTS'], log: process.env['FAKE_FC_LOG'] };
    delete process.env['FAKE_FC_GUEST_PORTS'];
    process.env['FAKE_FC_LOG'] = log;
    let err: unknown;
    try {
      await VmSession.start({
        config,
        paths,
        name,
        signal: AbortSignal.timeout(60_000),
        cold: true,
        bootTimeoutMs: 3_000,
      });
    } catch (e) {
      err = e;
    } finally {
      for (const [k, v] of [
        ['FAKE_FC_GUEST_PORTS', saved.ports],
        ['FAKE_FC_LOG', saved.log],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    expect(err, 'the session must not start').toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/no guest answer on vsock port/);
    expect(exitCodeFor(err)).toBe(EXIT_CODES.BOOT.code);
    const started = readFileSync(log, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { event: string; pid: number })
      .filter((e) => e.event === 'start');
    expect(started.length).toBe(1); // it did boot: the failure is the guest's silence
    expect(isAlive(started[0]!.pid)).toBe(false);
    expect(existsSync(join(paths.vmsDir, name))).toBe(false);
  });
});
