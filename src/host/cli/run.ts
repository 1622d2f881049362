/** `virtualghost run [--raw]`: a fresh VM, a shell in it, and nothing left when the shell exits. */
import { appendFileSync } from 'node:fs';
import type { ConfigKey } from '../config/schema.js';
import type { PublishedPort } from '../ports/spec.js';
import { SessionVmLostError } from '../session-errors.js';
import { INSTANCE_FILES } from '../store/instance-files.js';
import { cliContext, notice } from './context.js';
import { publishInto, withPublishedPorts } from './published-ports.js';
import { rawShell } from './raw-terminal.js';
import { withSession } from './with-session.js';

export interface RunOptions {
  raw?: boolean;
  cold?: boolean;
  /** false (`--no-pool`): never take a VM from the standby pool. */
  pool?: boolean;
  /** `-p`: published for as long as the VM runs. */
  publish?: PublishedPort[];
  flags: Partial<Record<ConfigKey, unknown>>;
}

export async function runCommand(opts: RunOptions): Promise<number> {
  const ctx = cliContext(opts.flags);
  const useTui = !opts.raw && process.stdout.isTTY;
  // The TUI's modules (xterm) take a few hundred ms to load: do that while the VM starts.
  const tui = useTui ? import('./tui-shell.js') : undefined;
  tui?.catch(() => undefined); // awaited (and its failure reported) below
  return await withPublishedPorts(
    opts.publish ?? [],
    notice,
    async (publisher) =>
      await withSession(ctx, { cold: opts.cold ?? false, pool: opts.pool ?? true }, async (session) => {
        const ssh = session.ssh;
        if (!ssh) throw new SessionVmLostError('no SSH connection');
        // A line on stderr would land in the middle of the TUI's screen: it goes to the VM's log instead.
        if (tui)
          publisher.setLog((line) =>
            appendFileSync(session.dir.file(INSTANCE_FILES.portsLog), `${new Date().toISOString()} ${line}\n`, {
              mode: 0o600,
            }),
          );
        publishInto(publisher, session);
        const shell = tui
          ? tui.then((m) => m.tuiShell(session, ctx, () => publisher.list()))
          : rawShell(ssh, { stdin: process.stdin, stdout: process.stdout });
        const status = await Promise.race([shell, session.lost.then((e) => Promise.reject(e))]);
        // The VM's death closes the shell first: that is a lost VM (exit 79, with why), not the shell's status.
        const lost = await session.lostAfterShell();
        if (lost) throw lost;
        return status;
      }),
  );
}
