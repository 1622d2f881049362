/**
 * `--quiet` and `--verbose` work before the verb (`virtualghost --quiet exec …`) and after it
 * (`virtualghost exec --quiet -- …`). Program options are positional (they end at the verb), and every
 * verb gets the two flags itself, unless it defines its own: `ps -q, --quiet` means "names only" there,
 * which `virtualghost --quiet ps` does not change.
 */
import type { Command } from 'commander';
import type { OutputMode } from './output.js';

/** The commands whose --quiet/--verbose we added (and therefore mean our output mode). */
const ours = new WeakMap<Command, Set<string>>();

export function allCommands(cmd: Command): Command[] {
  return cmd.commands.flatMap((c) => [c, ...allCommands(c)]);
}

export function addOutputFlags(cmd: Command): void {
  const added = new Set<string>();
  if (!cmd.parent) cmd.enablePositionalOptions();
  if (!cmd.options.some((o) => o.long === '--quiet')) {
    cmd.option('--quiet', 'no notices or progress (errors still print)');
    added.add('quiet');
  }
  if (!cmd.options.some((o) => o.long === '--verbose')) {
    cmd.option('--verbose', 'also print boot phase timings');
    added.add('verbose');
  }
  ours.set(cmd, added);
}

/** The output mode from our flags on the verb being run and on each command above it. */
export function outputFlags(action: Command): Partial<OutputMode> {
  const mode: Partial<OutputMode> = {};
  for (let cmd: Command | null = action; cmd; cmd = cmd.parent) {
    const added = ours.get(cmd);
    const given = cmd.opts<Partial<OutputMode>>();
    if (added?.has('quiet') && given.quiet) mode.quiet = true;
    if (added?.has('verbose') && given.verbose) mode.verbose = true;
  }
  return mode;
}
