/** `virtualghost run [--raw]`: a fresh VM, a shell in it, and nothing left when the shell exits. */
import { firecrackerMountReviews } from './firecracker-mounts.js';
import { appendFileSync } from 'node:fs';
import type { ConfigKey } from '../config/schema.js';
import type { PublishedPort } from '../ports/spec.js';
import { SessionVmLostError } from '../session-errors.js';
import { INSTANCE_FILES } from '../store/instance-files.js';
import { cliContext, notice } from './context.js';
import { publishInto, withPublishedPorts } from './published-ports.js';
import { rawShell } from './raw-terminal.js';
import { withSession } from './with-session.js';
import type { ReviewSpec } from '../review/spec.js';
import { reviewedSession } from './review-session.js';

export interface RunOptions {
  raw?: boolean;
  cold?: boolean;
  /** `-p`: published for as long as the VM runs. */
  publish?: PublishedPort[];
  flags: Partial<Record<ConfigKey, unknown>>;
  /** `--review DIR[:GUEST_DIR]`. */
  review?: ReviewSpec;
}

export async function runCommand(opts: RunOptions): Promise<number> {
  const { ctx, reviews } = firecrackerMountReviews(cliContext(opts.flags), opts.review, notice);
  // The TUI needs keys: with input from a file or /dev/null the shell reads it as a script (raw-terminal.ts).
  const useTui = !opts.raw && process.stdout.isTTY && process.stdin.isTTY;
  // The TUI's modules (xterm) take a few hundred ms to load: do that while the VM starts.
  const tui = useTui ? import('./tui-shell.js') : undefined;
  tui?.catch(() => undefined); // awaited (and its failure reported) below
  return await withPublishedPorts(
    opts.publish ?? [],
    notice,
    async (publisher) =>
      await reviewedSession(
        reviews,
        process.stdin.isTTY && process.stderr.isTTY ? { input: process.stdin, output: process.stderr } : undefined,
        (body) => withSession(ctx, { cold: opts.cold ?? false }, body),
        async (session) => {
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
          // A VM that dies ends the TUI, and its error is reported only once the terminal is restored: printed
          // while the TUI still held the alternate screen, the message would vanish with it (seen in CI).
          const vmLost = new AbortController();
          void session.lost.then((e) => {
            vmLost.abort(e);
          });
          const shell = tui
            ? tui.then((m) => m.tuiShell(session, ctx, () => publisher.list(), vmLost.signal))
            : rawShell(ssh, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
          const status = await Promise.race([
            shell,
            session.lost.then(async (e) => {
              if (tui) await shell.catch(() => undefined);
              throw e;
            }),
          ]);
          // The VM's death closes the shell first: that is a lost VM (exit 79, with why), not the shell's status.
          const lost = await session.lostAfterShell();
          if (lost) throw lost;
          return status;
        },
      ),
  );
}
