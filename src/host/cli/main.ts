/**
 * The `virtualghost` command line: one file per verb; this file maps them and maps errors to exit codes
 * (exit-codes.ts holds the one documented table).
 */
import { Command, CommanderError, Option } from 'commander';
import { GhostError } from '../../shared/errors.js';
import { PRODUCT_VERSION } from '../../shared/version.js';
import type { ConfigKey } from '../config/schema.js';
import { EXIT_CODES, exitCodeFor } from './exit-codes.js';

// Each verb's module is loaded only when that verb runs: loading all of them (the TUI, ssh2, the image
// builder, Firecracker) took 0.5-0.9 s of a warm start that is otherwise well under a second.
const verbs = {
  run: () => import('./run.js'),
  exec: () => import('./exec.js'),
  image: () => import('./image.js'),
  config: () => import('./config.js'),
  doctor: () => import('./doctor.js'),
  clean: () => import('./clean.js'),
};

interface VmFlags {
  cold?: boolean;
  vcpus?: string;
  memory?: string;
  backend?: string;
  accel?: string;
  image?: string;
}

const vmFlagOptions = (cmd: Command): Command =>
  cmd
    .option('--vcpus <n>', 'virtual CPUs')
    .option('--memory <size>', 'guest memory, e.g. 512M or 2G')
    .addOption(new Option('--backend <name>', 'VMM').choices(['auto', 'qemu', 'firecracker']))
    .addOption(new Option('--accel <accel>', 'QEMU accelerator').choices(['auto', 'kvm', 'tcg']))
    .option('--image <id>', 'guest image id (default: current recipe)')
    .option('--cold', 'boot from scratch instead of restoring the warm snapshot');

function toFlags(o: VmFlags): Partial<Record<ConfigKey, unknown>> {
  return { vcpus: o.vcpus, memory: o.memory, backend: o.backend, accel: o.accel, image: o.image };
}

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('virtualghost')
    .description('A shell inside a fresh, hardware-isolated microVM. Exit the shell and the VM is gone.')
    .version(PRODUCT_VERSION)
    .showHelpAfterError()
    .exitOverride();

  vmFlagOptions(program.command('run').description('boot a throw-away VM and open a shell in it'))
    .option('--raw', 'raw terminal passthrough instead of the full-screen UI')
    .action(async (o: VmFlags & { raw?: boolean }) => setExit(await (await verbs.run()).runCommand({ raw: o.raw ?? false, cold: o.cold ?? false, flags: toFlags(o) })));

  vmFlagOptions(program.command('exec').description('run one command in a throw-away VM; its exit status becomes ours'))
    .argument('<command...>', 'the command and its arguments (put them after --)')
    .option('-i, --interactive', 'pipe stdin even when it is a terminal')
    .option('-t, --tty', 'run the command on a PTY')
    .action(async (argv: string[], o: VmFlags & { interactive?: boolean; tty?: boolean }) =>
      setExit(await (await verbs.exec()).execCommand(argv, { ...(o.interactive ? { interactive: true } : {}), tty: o.tty ?? false, cold: o.cold ?? false, flags: toFlags(o) })),
    );

  const image = program.command('image').description('manage guest images');
  image.command('build').description('build the guest image for the current recipe').option('--force', 'rebuild even if cached').action(async (o: { force?: boolean }) => setExit(await (await verbs.image()).imageBuild(o)));
  image.command('ls').description('list cached images').option('--json', 'machine-readable output').action(async (o: { json?: boolean }) => setExit((await verbs.image()).imageList(o)));
  image.command('rm').description('remove cached images').argument('[ids...]').option('--all', 'remove every image').action(async (ids: string[], o: { all?: boolean }) => setExit((await verbs.image()).imageRemove(ids, o)));

  const config = program.command('config').description('read and change the configuration');
  config.command('path').description('print the config file path').action(async () => setExit((await verbs.config()).configPath()));
  config.command('show').description('print every key with its value').option('--effective', 'show where each value comes from').option('--json', 'machine-readable output').action(async (o: { effective?: boolean; json?: boolean }) => setExit((await verbs.config()).configShow(o)));
  config.command('get').description('print one value').argument('<key>').action(async (k: string) => setExit((await verbs.config()).configGet(k)));
  config.command('set').description('set one value in the config file').argument('<key>').argument('<value>').action(async (k: string, v: string) => setExit((await verbs.config()).configSet(k, v)));

  program.command('doctor').description('which backends can run here, and why not').option('--json', 'machine-readable output').action(async (o: { json?: boolean }) => setExit(await (await verbs.doctor()).doctor(o)));
  program.command('clean').description('remove leftovers of dead VMs').option('--images', 'also remove the image cache').action(async (o: { images?: boolean }) => setExit(await (await verbs.clean()).clean(o)));
  return program;
}

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = buildProgram((c) => (code = c));
  try {
    await program.parseAsync(argv);
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return EXIT_CODES.USAGE.code;
    }
    const exit = exitCodeFor(err);
    const msg = err instanceof GhostError ? err.message : err instanceof Error ? (process.env['VIRTUALGHOST_DEBUG'] ? (err.stack ?? err.message) : err.message) : String(err);
    process.stderr.write(`virtualghost: error: ${msg}\n`);
    if (exit === EXIT_CODES.INTERNAL.code && !(err instanceof GhostError)) process.stderr.write('virtualghost: this looks like a bug; rerun with VIRTUALGHOST_DEBUG=1 for a stack trace\n');
    return exit;
  }
}
