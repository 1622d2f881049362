/**
 * `clean` and a NAT that outlived its VM. passt normally dies with its VMM (parent-death signal,
 * --one-off); should one be left over, `clean` ends it under the same proof it asks of a VMM (pid, start
 * time, and a command line naming that VM's dir), and never a process a planted owner.json merely names.
 * The same for a Firecracker VM's network namespace: its holder and its pasta.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { startPasst, type PasstProcess } from '../../src/host/net/passt.js';
import { startNetNamespace, type NetNamespace } from '../../src/host/net/netns.js';
import { createInstanceDir } from '../../src/host/store/instance-dir.js';
import { ghostPaths } from '../../src/host/store/paths.js';
import { identify, OWNER_FILE, writeOwner } from '../../src/host/store/process-identity.js';
import { runCli } from '../helpers/cli.js';
import { eventually, processAlive } from '../helpers/cli-child.js';

const started: Array<{ kill(): void }> = [];
afterEach(() => {
  for (const p of started.splice(0)) p.kill();
});

describe('clean and a leftover NAT', () => {
  it("kills a passt left behind in a dead VM's dir, spares an unrelated process the owner record names, removes the dir", async () => {
    const dir = createInstanceDir(ghostPaths().vmsDir, 'natleft');
    let nat: PasstProcess | undefined;
    try {
      nat = await startPasst(dir, 'nat', AbortSignal.timeout(20_000));
      started.push({ kill: () => nat?.proc.signal('SIGKILL') });
      const bystander = spawn('sleep', ['300'], { stdio: 'ignore' });
      started.push({ kill: () => bystander.kill('SIGKILL') });
      const natId = identify(nat.proc.pid as number);
      const bystanderId = identify(bystander.pid as number);
      expect(natId && bystanderId).toBeTruthy();
      // The owner is dead (our pid with another start time: a reused pid), its VMM gone; the NAT still runs.
      writeOwner(dir.file(OWNER_FILE), {
        host: { pid: process.pid, start: 1 },
        helpers: [natId!, bystanderId!],
        backend: 'qemu',
        createdAt: new Date().toISOString(),
      });
      const r = await runCli(['clean']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.toString()).toContain(`killed orphaned NAT (pid ${natId!.pid})`);
      expect(r.stdout.toString()).toContain('removed natleft');
      expect(await eventually(() => !processAlive(natId!.pid), 5000)).toBe(true);
      expect(
        processAlive(bystanderId!.pid),
        'a process whose command line does not name the VM dir is never killed',
      ).toBe(true);
      expect(existsSync(dir.path)).toBe(false);
    } finally {
      await nat?.stop();
      dir.remove();
    }
  });

  it("kills a leftover network namespace (holder and pasta) of a dead VM's dir, and removes the dir", async () => {
    const dir = createInstanceDir(ghostPaths().vmsDir, 'nsleft');
    let ns: NetNamespace | undefined;
    try {
      ns = await startNetNamespace(dir, 'nat', AbortSignal.timeout(20_000));
      started.push({
        kill: () => {
          ns?.holder.signal('SIGKILL');
          ns?.pasta.signal('SIGKILL');
        },
      });
      const ids = ns.pids.map((p) => identify(p));
      expect(ids.every(Boolean)).toBe(true);
      writeOwner(dir.file(OWNER_FILE), {
        host: { pid: process.pid, start: 1 },
        helpers: ids.map((id) => id!),
        backend: 'firecracker',
        createdAt: new Date().toISOString(),
      });
      const r = await runCli(['clean']);
      expect(r.code, r.stderr).toBe(0);
      for (const id of ids) expect(r.stdout.toString()).toContain(`killed orphaned NAT (pid ${id!.pid})`);
      expect(await eventually(() => ids.every((id) => !processAlive(id!.pid)), 5000)).toBe(true);
      expect(existsSync(dir.path)).toBe(false);
    } finally {
      await ns?.stop();
      dir.remove();
    }
  });
});
