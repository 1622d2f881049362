/**
 * The `virtualghost` command line: one file per verb; this file maps them and maps errors to exit codes
 * (exit-codes.ts holds the one documented table).
 */
import { DEBUG_ENV } from '../config/other-env.js';
import { absoluteImageSource } from '../image/oci/image-source.js';
import { Argument, Command, CommanderError, Option } from 'commander';
import { GhostError } from '../../shared/errors.js';
import { PRODUCT_VERSION } from '../../shared/version.js';
import type { ConfigKey } from '../config/schema.js';
import { COMPLETION_SHELLS, completionScript, type CompletionShell } from './completion/index.js';
import { setOutputMode } from './output.js';
import { addOutputFlags, allCommands, outputFlags } from './output-flags.js';
import { notice } from './context.js';
import { unknownEnvVars } from '../config/load.js';
import { EXIT_CODES, exitCodeFor } from './exit-codes.js';
import { UsageError } from './usage-error.js';
import { absoluteMountText } from '../workspace/mount-spec.js';
import type { ReviewSpec } from '../review/spec.js';

// Each verb's module is loaded only when that verb runs: loading all of them (the TUI, ssh2, the image
// builder, Firecracker) took 0.5-0.9 s of a warm start that is otherwise well under a second.
const verbs = {
  run: () => import('./run.js'),
  named: () => import('./named-run.js'),
  exec: () => import('./exec.js'),
  image: () => import('./image.js'),
  imagePull: () => import('./image-pull.js'),
  imagePrune: () => import('./image-prune.js'),
  config: () => import('./config.js'),
  configEdit: () => import('./config-edit.js'),
  doctor: () => import('./doctor.js'),
  clean: () => import('./clean.js'),
  version: () => import('./version.js'),
  cp: () => import('./cp.js'),
  proxy: () => import('./proxy.js'),
  sshConfig: () => import('./ssh-config.js'),
  ps: () => import('./ps.js'),
  stop: () => import('./stop.js'),
  suspend: () => import('./suspend.js'),
  rm: () => import('./rm.js'),
  logs: () => import('./logs.js'),
  supervise: () => import('../supervisor/main.js'),
  port: () => import('./port.js'),
  portSpec: () => import('../ports/spec.js'),
  reviewSpec: () => import('../review/spec.js'),
  pool: () => import('./pool.js'),
  poolMain: () => import('../pool/pool-main.js'),
  poolKeeper: () => import('../pool/keeper.js'),
};

const REVIEW_HELP =
  'copy DIR into the VM at /work (or GUEST_DIR); when the session ends, review its changes before any reach DIR';
const ON_EXIT_HELP =
  'what to do with the --review changes: ask (default on a terminal), apply, discard, or patch:FILE (a git patch)';
const reviewOptions = (cmd: Command): Command =>
  cmd
    .option('--review <DIR[:GUEST_DIR]>', REVIEW_HELP)
    .option('--on-exit <ask|apply|discard|patch:FILE>', ON_EXIT_HELP);

/** `--review` and `--on-exit`, checked before any VM boots. */
async function reviewFlag(o: { review?: string; onExit?: string }): Promise<{ review?: ReviewSpec }> {
  const spec = await verbs.reviewSpec();
  if (o.review === undefined) {
    spec.onExitWithoutReview(o.onExit);
    return {};
  }
  return { review: spec.parseReview(o.review, o.onExit) };
}

interface VmFlags {
  cold?: boolean;
  vcpus?: string;
  memory?: string;
  backend?: string;
  accel?: string;
  image?: string;
  net?: boolean;
  netHost?: boolean;
  package?: string[];
  volume?: string[];
  /** commander's name for `--no-pool`: false when it is given. */
  pool?: boolean;
}

const MOUNT_HELP = 'share host dir HOST_DIR at GUEST_DIR in the VM (:ro read-only); repeatable; replaces mounts';
const PACKAGE_HELP =
  'add a Debian package to the default image (its own image, built once); repeatable; replaces image.packages';

const vmFlagOptions = (cmd: Command): Command =>
  cmd
    .option('--vcpus <n>', 'virtual CPUs')
    .option('--memory <size>', 'guest memory, e.g. 512M or 2G')
    .addOption(new Option('--backend <name>', 'VMM').choices(['auto', 'qemu', 'firecracker']))
    .addOption(new Option('--accel <accel>', 'QEMU accelerator').choices(['auto', 'kvm', 'tcg']))
    .option('--image <image>', 'guest image: an id, oci:PATH, docker-archive:FILE.tar (default: current recipe)')
    .option('--package <name>', PACKAGE_HELP, collect)
    .option('-v, --volume <host_dir:guest_dir[:ro]>', MOUNT_HELP, collect)
    .option('--cold', 'boot from scratch instead of restoring the warm snapshot')
    .option('--no-pool', 'start a VM of its own even when the standby pool has one ready')
    .option('--net', 'give the guest a network: outbound through a user-mode NAT (net.mode = "nat")')
    .option(
      '--net-host',
      "like --net, and let the guest reach the host's 127.0.0.1 as host.virtualghost.internal (net.host_access)",
    );

/** `-p` and `--package` are repeatable: commander gives each value to this, with what came before. */
const collect = (value: string, before: string[] | undefined): string[] => [...(before ?? []), value];
const PUBLISH_HELP = 'publish guest port GUEST_PORT on HOST_IP:HOST_PORT (default HOST_IP 127.0.0.1); repeatable';

function toFlags(o: VmFlags): Partial<Record<ConfigKey, unknown>> {
  // --net-host implies --net: host access means nothing without a network.
  return {
    vcpus: o.vcpus,
    memory: o.memory,
    backend: o.backend,
    accel: o.accel,
    image: o.image === undefined ? undefined : absoluteImageSource(o.image),
    'image.packages': o.package,
    // Relative to this command's directory, resolved here: a supervisor runs elsewhere.
    mounts: o.volume?.map((text) => absoluteMountText(text)),
    'net.mode': o.net || o.netHost ? 'nat' : undefined,
    'net.host_access': o.netHost ? true : undefined,
  };
}

export function buildProgram(setExit: (code: number) => void, rawArgs: readonly string[] = process.argv): Command {
  const program = new Command('virtualghost')
    .description('A shell inside a fresh, hardware-isolated microVM. Exit the shell and the VM is gone.')
    .version(PRODUCT_VERSION)
    .showHelpAfterError()
    .exitOverride();
  addOutputFlags(program);
  program.hook('preAction', (_program, action) => {
    setOutputMode(outputFlags(action));
    for (const warning of unknownEnvVars(process.env)) notice(warning);
  });

  const runCmd = vmFlagOptions(
    program
      .command('run')
      .description('boot a VM and open a shell in it: throw-away, or named (kept running by a supervisor)'),
  )
    .argument('[name]', 'a name makes the VM persistent: it keeps running after you detach; `run NAME` again attaches')
    .option('--raw', 'raw terminal passthrough instead of the full-screen UI')
    .option('-d, --detach', 'start the VM in the background and print its name')
    .option(
      '--keep',
      "keep the VM's disk after `stop` (named VMs); `run NAME` boots from it again, `rm NAME` deletes it",
    )
    .option('-p, --publish <[host_ip:]host_port:guest_port>', PUBLISH_HELP, collect);
  reviewOptions(runCmd).action(
    async (
      name: string | undefined,
      o: VmFlags & {
        raw?: boolean;
        detach?: boolean;
        keep?: boolean;
        publish?: string[];
        review?: string;
        onExit?: string;
      },
    ) => {
      const publish = (await verbs.portSpec()).parsePortSpecs(o.publish ?? []);
      if ((o.review !== undefined || o.onExit !== undefined) && (name !== undefined || o.detach))
        throw new UsageError(
          '--review is for a throw-away `run` (no NAME, no --detach): its changes are reviewed when the shell exits',
        );
      const review = await reviewFlag(o);
      if (name === undefined && !o.detach) {
        if (o.keep) throw new UsageError('--keep needs a VM name: `virtualghost run NAME --keep`');
        setExit(
          await (
            await verbs.run()
          ).runCommand({
            raw: o.raw ?? false,
            cold: o.cold ?? false,
            pool: o.pool !== false,
            publish,
            flags: toFlags(o),
            ...review,
          }),
        );
        return;
      }
      setExit(
        await (
          await verbs.named()
        ).namedRun({
          ...(name !== undefined ? { name } : {}),
          detach: o.detach ?? false,
          keep: o.keep ?? false,
          cold: o.cold ?? false,
          pool: o.pool !== false,
          raw: o.raw ?? false,
          publish,
          flags: toFlags(o),
        }),
      );
    },
  );

  program
    .command('attach')
    .description('open the shells of a running named VM (prefix d detaches again)')
    .argument('<name>')
    .option('--raw', 'raw terminal passthrough of the first shell instead of the full-screen UI')
    .action(async (name: string, o: { raw?: boolean }) =>
      setExit(await (await verbs.named()).attachCommand(name, { raw: o.raw ?? false })),
    );
  program
    .command('ps')
    .description('list VMs: running, dead leftovers, and stopped ones with kept disks')
    .option('--json', 'machine-readable output')
    .option('-q, --quiet', 'names only')
    .action(async (o: { json?: boolean; quiet?: boolean }) => setExit(await (await verbs.ps()).psCommand(o)));
  program
    .command('stop')
    .description('stop VMs (named, detached, or throw-away runs)')
    .argument('[names...]')
    .option('--all', 'stop every VM')
    .option('--discard-state', 'keep only the disk of a kept VM, not its running state (also drops a saved one)')
    .action(async (names: string[], o: { all?: boolean; discardState?: boolean }) =>
      setExit(await (await verbs.stop()).stopCommand(names, o)),
    );
  program
    .command('suspend')
    .description('save kept VMs as they run and stop them; `run NAME` or `attach NAME` resumes them')
    .argument('<names...>')
    .action(async (names: string[]) => setExit(await (await verbs.suspend()).suspendCommand(names)));
  program
    .command('rm')
    .description("delete stopped VMs' kept disks")
    .argument('<names...>')
    .option('-f, --force', 'stop running ones first')
    .action(async (names: string[], o: { force?: boolean }) => setExit(await (await verbs.rm()).rmCommand(names, o)));
  program
    .command('logs')
    .description("a VM's serial console and VMM/supervisor logs")
    .argument('<name>')
    .option('-f, --follow', 'keep printing the console until the VM ends')
    .action(async (name: string, o: { follow?: boolean }) => setExit(await (await verbs.logs()).logsCommand(name, o)));
  program
    .command('__supervise', { hidden: true })
    .argument('<name>')
    .requiredOption('--flags <json>')
    .option('--publish <json>')
    .option('--keep')
    .option('--cold')
    .option('--no-pool')
    .action(
      async (name: string, o: { flags: string; publish?: string; keep?: boolean; cold?: boolean; pool?: boolean }) =>
        setExit(
          await (
            await verbs.supervise()
          ).supervise({
            name,
            flags: JSON.parse(o.flags) as Partial<Record<ConfigKey, unknown>>,
            publish: (await verbs.portSpec()).validPorts(JSON.parse(o.publish ?? '[]')),
            keep: o.keep ?? false,
            cold: o.cold ?? false,
            pool: o.pool !== false,
          }),
        ),
    );
  program
    .command('port')
    .description('list, add or remove the published ports of running VM NAME')
    .argument('<name>')
    .addArgument(new Argument('[action]', 'add SPEC or rm HOST_PORT (default: list)').choices(['add', 'rm']))
    .argument('[value]', 'add: [HOST_IP:]HOST_PORT:GUEST_PORT; rm: HOST_PORT')
    .option('--json', 'machine-readable output')
    .action(async (name: string, action: 'add' | 'rm' | undefined, value: string | undefined, o: { json?: boolean }) =>
      setExit(await (await verbs.port()).portCommand(name, action, value, o)),
    );

  const execCmd = vmFlagOptions(
    program
      .command('exec')
      .description('run one command in a throw-away VM, or in running VM NAME; its exit status becomes ours'),
  )
    .argument(
      '[[name] command...]',
      "optionally a running VM's name, then -- and the command with its arguments (none: an OCI image's Entrypoint and Cmd)",
    )
    .option('-i, --interactive', 'pipe stdin even when it is a terminal')
    .option('-t, --tty', 'run the command on a PTY')
    .option('-p, --publish <[host_ip:]host_port:guest_port>', PUBLISH_HELP, collect);
  reviewOptions(execCmd).action(
    async (
      operands: string[],
      o: VmFlags & { interactive?: boolean; tty?: boolean; publish?: string[]; review?: string; onExit?: string },
    ) => {
      const exec = await verbs.exec();
      const { name, argv } = exec.splitExecOperands(operands, rawArgs);
      const publish = (await verbs.portSpec()).parsePortSpecs(o.publish ?? []);
      const review = await reviewFlag(o);
      setExit(
        await exec.execCommand(argv, {
          ...(name !== undefined ? { name } : {}),
          ...(o.interactive ? { interactive: true } : {}),
          tty: o.tty ?? false,
          cold: o.cold ?? false,
          pool: o.pool !== false,
          publish,
          flags: toFlags(o),
          ...review,
        }),
      );
    },
  );

  const pool = program
    .command('pool')
    .description('the standby pool: warm VMs that run, exec and run NAME take at once');
  pool
    .command('start')
    .description('start the pool (in the background) and wait until its VMs are ready')
    .option('--size <n>', 'how many VMs to keep ready (pool.size)')
    .option('--idle <duration>', 'stop after this long without a claim, e.g. 30m (pool.idle_timeout)')
    .action(async (o: { size?: string; idle?: string }) => setExit(await (await verbs.pool()).poolStart(o)));
  pool
    .command('status')
    .description('its VMs, and what it costs while idle (host CPU, RSS/PSS, VMM wakeups)')
    .option('--json', 'machine-readable output')
    .action(async (o: { json?: boolean }) => setExit(await (await verbs.pool()).poolStatus(o)));
  pool
    .command('stop')
    .description('stop the pool and its unclaimed VMs')
    .action(async () => setExit(await (await verbs.pool()).poolStop()));
  program
    .command('__pool', { hidden: true })
    .requiredOption('--flags <json>')
    .action(async (o: { flags: string }) =>
      setExit(
        await (await verbs.poolMain()).runPool({ flags: JSON.parse(o.flags) as Partial<Record<ConfigKey, unknown>> }),
      ),
    );
  program
    .command('__pool-clone', { hidden: true })
    .requiredOption('--vm-dir <path>')
    .action(async (o: { vmDir: string }) => setExit(await (await verbs.poolKeeper()).keepClone(o.vmDir)));

  program
    .command('proxy')
    .description("join stdin/stdout to running VM NAME's SSH stream (for OpenSSH ProxyCommand)")
    .argument('<name>')
    .action(async (name: string) => setExit(await (await verbs.proxy()).proxy(name)));
  program
    .command('ssh-config')
    .description('print an OpenSSH Host block for VM NAME (default: every running named VM)')
    .argument('[name]')
    .action(async (name: string | undefined) => setExit((await verbs.sshConfig()).sshConfig(name)));
  program
    .command('cp')
    .description('copy files or directory trees to or from a running VM: NAME:/path on one side')
    .argument('<src>')
    .argument('<dst>')
    .action(async (src: string, dst: string) => setExit(await (await verbs.cp()).copy(src, dst)));

  const image = program.command('image').description('manage guest images');
  image
    .command('build')
    .description('build the guest image for the current recipe')
    .option('--force', 'rebuild even if cached')
    .option('--package <name>', PACKAGE_HELP, collect)
    .option('--json', 'machine-readable output')
    .action(async (o: { force?: boolean; json?: boolean; package?: string[] }) =>
      setExit(await (await verbs.image()).imageBuild(o)),
    );
  image
    .command('pull')
    .description('download an image from a registry (e.g. debian:12, 127.0.0.1:5000/app:dev) into the layer cache')
    .argument('<reference>', '[REGISTRY/]NAME[:TAG][@sha256:DIGEST]')
    .option('--json', 'machine-readable output')
    .action(async (ref: string, o: { json?: boolean }) => setExit(await (await verbs.imagePull()).imagePull(ref, o)));
  image
    .command('ls')
    .description('list cached images')
    .option('--json', 'machine-readable output')
    .action(async (o: { json?: boolean }) => setExit((await verbs.image()).imageList(o)));
  image
    .command('rm')
    .description('remove cached images')
    .argument('[ids...]')
    .option('--all', 'remove every image')
    .action(async (ids: string[], o: { all?: boolean }) => setExit((await verbs.image()).imageRemove(ids, o)));
  image
    .command('prune')
    .description('remove cached images nothing uses (not the default image, nor one a VM runs on)')
    .option('--older-than <age>', 'only images not used for this long, e.g. 30d, 12h')
    .option('--json', 'JSON output')
    .action(async (o: { olderThan?: string; json?: boolean }) =>
      setExit(await (await verbs.imagePrune()).imagePrune(o)),
    );

  const config = program.command('config').description('read and change the configuration');
  config
    .command('path')
    .description('print the config file path')
    .option('--json', 'machine-readable output')
    .action(async (o: { json?: boolean }) => setExit((await verbs.config()).configPath(o)));
  config
    .command('show')
    .description('print every key with its value')
    .option('--effective', 'show where each value comes from')
    .option('--json', 'machine-readable output')
    .action(async (o: { effective?: boolean; json?: boolean }) => setExit((await verbs.config()).configShow(o)));
  config
    .command('get')
    .description('print one value')
    .argument('<key>')
    .option('--json', 'value, origin and source as JSON')
    .action(async (k: string, o: { json?: boolean }) => setExit((await verbs.config()).configGet(k, o)));
  config
    .command('set')
    .description('set one value in the config file')
    .argument('<key>')
    .argument('<value>')
    .action(async (k: string, v: string) => setExit((await verbs.config()).configSet(k, v)));
  config
    .command('unset')
    .description('remove one key from the config file (back to its default)')
    .argument('<key>')
    .action(async (k: string) => setExit((await verbs.config()).configUnset(k)));
  config
    .command('edit')
    .description('edit the config file in $VISUAL/$EDITOR; saved only if valid')
    .action(async () => setExit(await (await verbs.configEdit()).configEdit()));

  program
    .command('doctor')
    .description('which backends can run here, and why not')
    .option('--json', 'machine-readable output')
    .action(async (o: { json?: boolean }) => setExit(await (await verbs.doctor()).doctor(o)));
  program
    .command('clean')
    .description('remove leftovers of dead VMs')
    .option('--images', 'also remove the image cache')
    .action(async (o: { images?: boolean }) => setExit(await (await verbs.clean()).clean(o)));
  program
    .command('version')
    .description('versions of VirtualGhost, Node, QEMU, the image recipe, and the backends')
    .option('--json', 'machine-readable output')
    .action(async (o: { json?: boolean }) => setExit(await (await verbs.version()).versionCommand(o)));
  program
    .command('completion')
    .description('print a shell completion script (see README: Shell completion)')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(COMPLETION_SHELLS))
    .action((shell: CompletionShell) => {
      process.stdout.write(completionScript(program, shell));
      setExit(0);
    });
  // After every verb exists: each gets --quiet/--verbose unless it has its own (see output-flags.ts).
  for (const cmd of allCommands(program)) addOutputFlags(cmd);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  // `virtualghost config show | head`: a reader that goes away ends us quietly, as SIGPIPE ends other
  // programs, instead of with a stack trace. A running session is ended through its signal path so that
  // the VM is torn down first (an ignored EPIPE would leave the guest blocked on a full channel).
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
    if (process.listenerCount('SIGTERM') > 0) process.emit('SIGTERM', 'SIGTERM');
    else process.exit(0);
  });
  let code = 0;
  const program = buildProgram((c) => (code = c), argv);
  try {
    await program.parseAsync(argv);
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help')
        return 0;
      return EXIT_CODES.USAGE.code;
    }
    const exit = exitCodeFor(err);
    const msg =
      err instanceof GhostError
        ? err.message
        : err instanceof Error
          ? process.env[DEBUG_ENV]
            ? (err.stack ?? err.message)
            : err.message
          : String(err);
    process.stderr.write(`virtualghost: error: ${msg}\n`);
    if (exit === EXIT_CODES.INTERNAL.code && !(err instanceof GhostError))
      process.stderr.write('virtualghost: this looks like a bug; rerun with VIRTUALGHOST_DEBUG=1 for a stack trace\n');
    return exit;
  }
}
