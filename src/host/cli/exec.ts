/**
 * `virtualghost exec [NAME] [--tty] -- CMD...`: runs one command in a fresh throw-away VM (or, with NAME,
 * in that running named VM). stdout and stderr
 * stay separate and binary-exact; stdin is piped through when it is not a terminal (or with -i); the
 * exit status is the command's own (128+N if signal N killed it).
 */
import { firecrackerMountReviews } from './firecracker-mounts.js';
import { constants } from 'node:os';
import type { ClientChannel } from 'ssh2';
import type ssh2 from 'ssh2';
import { shellQuote } from '../shell-quote.js';
import { imageCommand, imageMayHaveCommand } from '../image/oci/image-command.js';
import { CliUsageError } from './errors.js';
import { cliContext, noticeIgnoredVmFlags } from './context.js';
import { withSession } from './with-session.js';
import type { ConfigKey } from '../config/schema.js';
import { SessionVmLostError } from '../session-errors.js';
import { connectNamedVm } from '../ssh/named-vm.js';
import { ghostPaths } from '../store/paths.js';
import { findVm } from '../supervisor/registry.js';
import type { PublishedPort } from '../ports/spec.js';
import { notice } from './context.js';
import { publishInto, withPublishedPorts } from './published-ports.js';
import type { ReviewSpec } from '../review/spec.js';
import { reviewedSession } from './review-session.js';

export interface ExecOptions {
  /** A running named VM to run in; without it, a fresh throw-away VM. */
  name?: string;
  interactive?: boolean;
  tty?: boolean;
  cold?: boolean;
  /** `-p`: published while the command runs (throw-away VMs only). */
  publish?: PublishedPort[];
  flags: Partial<Record<ConfigKey, unknown>>;
  /** `--review DIR[:GUEST_DIR]` (throw-away VMs only). */
  review?: ReviewSpec;
}

/**
 * `exec [NAME] -- CMD…`: commander hands us every operand in one list and drops the `--`, so the raw
 * command line tells where the command starts: whatever comes after the first `--` is the command, and an
 * operand before it is the VM's name. Without `--` everything is the command (as before NAME existed).
 */
export function splitExecOperands(
  operands: readonly string[],
  rawArgs: readonly string[],
): { name?: string; argv: string[] } {
  const verb = rawArgs.indexOf('exec', 2);
  const dashes = verb < 0 ? -1 : rawArgs.indexOf('--', verb + 1);
  if (dashes < 0) return { argv: [...operands] };
  const before = operands.length - (rawArgs.length - dashes - 1);
  if (before > 1)
    throw new CliUsageError(
      `exec takes at most one VM name before \`--\` (got ${operands.slice(0, before).join(' ')}); put the command after \`--\``,
    );
  // A running VM has no image config to take a command from; a new VM's OCI image may (execCommand checks).
  if (before === 1 && operands.length === 1) throw new CliUsageError('exec needs a command after `--`');
  const name = before === 1 ? operands[0] : undefined;
  return { ...(name !== undefined ? { name } : {}), argv: operands.slice(before) };
}

export function statusFromExit(code: number | null | undefined, signalName: string | undefined): number {
  if (signalName)
    return (
      128 + (constants.signals[(signalName.startsWith('SIG') ? signalName : `SIG${signalName}`) as NodeJS.Signals] ?? 0)
    );
  return code ?? 255;
}

export async function runGuestCommand(
  ssh: ssh2.Client,
  command: string,
  io: { stdin?: NodeJS.ReadableStream; stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; tty?: boolean },
): Promise<number> {
  const stream = await new Promise<ClientChannel>((resolve, reject) => {
    const ptyOpts = io.tty
      ? {
          pty: {
            term: process.env['TERM'] ?? 'xterm-256color',
            cols: process.stdout.columns || 80,
            rows: process.stdout.rows || 24,
          },
        }
      : {};
    ssh.exec(command, ptyOpts, (err, s) => (err ? reject(err) : resolve(s)));
  });
  return await new Promise<number>((resolve, reject) => {
    let status: number | undefined;
    stream.on('exit', (code: number | null, signal?: string) => (status = statusFromExit(code, signal)));
    stream.pipe(io.stdout, { end: false });
    stream.stderr.pipe(io.stderr, { end: false });
    if (io.stdin) io.stdin.pipe(stream);
    else stream.end();
    stream.on('close', () => {
      if (io.stdin) io.stdin.unpipe(stream);
      if (status === undefined)
        reject(
          new SessionVmLostError(`the command's channel closed without an exit status (the VM or its agent went away)`),
        );
      else resolve(status);
    });
  });
}

/** `exec NAME -- CMD…`: the same command semantics, in a running named VM over its own SSH connection. */
async function execInNamedVm(name: string, command: string, opts: ExecOptions, pipeStdin: boolean): Promise<number> {
  const paths = ghostPaths();
  const ssh = await connectNamedVm(paths, name);
  try {
    const status = await runGuestCommand(ssh, command, {
      ...(pipeStdin ? { stdin: process.stdin } : {}),
      stdout: process.stdout,
      stderr: process.stderr,
      tty: opts.tty ?? false,
    });
    if (pipeStdin) process.stdin.destroy();
    return status;
  } catch (err) {
    if (!(err instanceof SessionVmLostError)) throw err;
    // A VM that died is ended by its supervisor within moments: say which it was, the VM or only its agent.
    const gone = await eventually(() => findVm(paths, name)?.state !== 'running', VM_GONE_WAIT_MS);
    throw new SessionVmLostError(
      gone
        ? `the VM ${name} died during the command (its supervisor has ended it; \`virtualghost ps\` shows what is left)`
        : `the command's channel to VM ${name} closed without an exit status: its agent went away (the VM still runs)`,
      { cause: err },
    );
  } finally {
    ssh.end();
  }
}

/** How long `exec NAME` waits, after its channel broke, to see whether the VM's supervisor ends the VM. */
const VM_GONE_WAIT_MS = 5_000;

async function eventually(pred: () => boolean, ms: number): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100)))
    if (pred()) return true;
  return pred();
}

export async function execCommand(argv: string[], opts: ExecOptions): Promise<number> {
  const pipeStdin = opts.interactive ?? !process.stdin.isTTY;
  const publish = opts.publish ?? [];
  if (opts.name !== undefined) {
    if (publish.length)
      throw new CliUsageError(
        `-p publishes ports of the new VM an exec starts; for running VM ${opts.name} use \`virtualghost port ${opts.name} add SPEC\``,
      );
    if (opts.review)
      throw new CliUsageError(
        `--review copies DIR into the new VM an exec starts; for running VM ${opts.name} use \`virtualghost cp\``,
      );
    noticeIgnoredVmFlags(opts.name, opts.flags, opts.cold ? ['--cold'] : []);
    if (argv.length === 0) throw new CliUsageError('exec needs a command after `--`');
    return await execInNamedVm(opts.name, shellQuote(argv), opts, pipeStdin);
  }
  const { ctx, reviews } = firecrackerMountReviews(cliContext(opts.flags), opts.review, notice);
  if (argv.length === 0 && !imageMayHaveCommand(ctx.config.values.image))
    throw new CliUsageError('exec needs a command after `--`');
  // A review asks on the terminal unless the command has stdin.
  const askOn =
    !pipeStdin && process.stdin.isTTY && process.stderr.isTTY
      ? { input: process.stdin, output: process.stderr }
      : undefined;
  // stdout and stderr belong to the command: a published port's "nothing listening" line is a notice.
  return await withPublishedPorts(
    publish,
    notice,
    async (publisher) =>
      await reviewedSession(
        reviews,
        askOn,
        (body) => withSession(ctx, { cold: opts.cold ?? false }, body),
        async (session) => {
          const ssh = session.ssh;
          if (!ssh) throw new SessionVmLostError('no SSH connection');
          publishInto(publisher, session);
          const command = argv.length ? shellQuote(argv) : imageCommand(session.image);
          const status = await Promise.race([
            runGuestCommand(ssh, command, {
              ...(pipeStdin ? { stdin: process.stdin } : {}),
              stdout: process.stdout,
              stderr: process.stderr,
              tty: opts.tty ?? false,
            }),
            session.lost.then((e) => Promise.reject(e)),
          ]).catch(async (err: unknown) => {
            // The command's channel closes a moment before the session learns why (e.g. the VMM was killed):
            // prefer that precise reason if it arrives promptly.
            throw (
              (await Promise.race([
                session.lost,
                new Promise<undefined>((r) => setTimeout(() => r(undefined), 2000).unref()),
              ])) ?? err
            );
          });
          if (pipeStdin) process.stdin.destroy();
          return status;
        },
      ),
  );
}
