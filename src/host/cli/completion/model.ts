/**
 * What shell completion needs to know, read from the commander program itself (so the scripts never
 * drift from the real verbs and options): for each command path its subcommands, options (and which
 * take a value, with their choices), and what each positional argument is.
 */
import { Help, type Argument, type Command, type Option } from 'commander';
import { CONFIG_KEYS } from '../../config/schema.js';

/**
 * vm: a VM name (from `ps -q`); vmpath: `NAME:/path` or a local path (cp); key: a config key; keyvalue:
 * a value for the config key given just before (its choices, if it has a fixed set);
 * image: an image id; file: a local path; choice:a,b: one of a fixed list; none: nothing to propose.
 */
export type ArgKind = 'vm' | 'vmpath' | 'key' | 'keyvalue' | 'image' | 'file' | 'none' | `choice:${string}`;

export interface CompletionNode {
  /** Words after the program name, e.g. "image build"; "" for the program itself. */
  path: string;
  subcommands: string[];
  /** Every flag spelling the command accepts, its ancestors' included (commander parses those anywhere). */
  options: string[];
  /** The spellings that consume the next word as their value. */
  valueOptions: string[];
  /** Choices for value options, by spelling. */
  optionChoices: Record<string, string[]>;
  /** One kind per positional argument; the last ends with "..." when it repeats. */
  args: string[];
}

/** Verbs whose first positional argument names a VM, whatever the argument is called. */
const VM_VERBS = new Set(['attach', 'stop', 'suspend', 'rm', 'logs', 'exec', 'proxy', 'ssh-config']);

function argKind(cmd: Command, arg: Argument, index: number, path: string[]): ArgKind {
  const name = arg.name().toLowerCase();
  if (arg.argChoices?.length) return `choice:${arg.argChoices.join(',')}`;
  if (/^(command|cmd|args?)$/.test(name)) return 'none';
  if (path[0] === 'cp') return 'vmpath';
  if (path[0] === 'image' && /^ids?$/.test(name)) return 'image';
  if (path[0] === 'config' && name === 'key') return 'key';
  if (/^(name|vm)s?$/.test(name) || (index === 0 && path.length === 1 && VM_VERBS.has(cmd.name()))) return 'vm';
  if (path[0] === 'config' && name === 'value') return 'keyvalue';
  if (path[0] === 'port' && name === 'value') return 'none'; // a port spec or number: nothing to propose
  return 'file';
}

/** One argument's kinds; `<[name] command...>` (exec) stands for two: an optional VM, then the command. */
function argKinds(cmd: Command, arg: Argument, index: number, path: string[]): string[] {
  if (/^\[(name|vm)\]\s/i.test(arg.name())) return ['vm', 'none...'];
  return [`${argKind(cmd, arg, index, path)}${arg.variadic ? '...' : ''}`];
}

function spellings(o: Option): string[] {
  return [o.short, o.long].filter((s): s is string => typeof s === 'string');
}

export function completionModel(program: Command): CompletionNode[] {
  const help = new Help();
  const nodes: CompletionNode[] = [];
  const walk = (cmd: Command, path: string[], inherited: Option[]): void => {
    const own = help.visibleOptions(cmd);
    const all = [...own, ...inherited.filter((i) => !own.some((o) => o.long === i.long))];
    const valueOpts = all.filter((o) => o.required || o.optional);
    nodes.push({
      path: path.join(' '),
      subcommands: cmd.commands.filter((c) => !(c as Command & { _hidden?: boolean })._hidden).map((c) => c.name()),
      options: all.flatMap(spellings),
      valueOptions: valueOpts.flatMap(spellings),
      optionChoices: Object.fromEntries(
        valueOpts.filter((o) => o.argChoices?.length).flatMap((o) => spellings(o).map((s) => [s, o.argChoices ?? []])),
      ),
      args: cmd.registeredArguments.flatMap((a, i) => argKinds(cmd, a, i, path)),
    });
    // Only the program's own options (--quiet, --verbose) apply everywhere below; --version does not.
    const passDown = path.length === 0 ? cmd.options.filter((o) => o.long !== '--version') : inherited;
    for (const sub of cmd.commands) walk(sub, [...path, sub.name()], passDown);
  };
  walk(program, [], []);
  return nodes;
}

export const configKeyWords = (): string[] => Object.keys(CONFIG_KEYS);

/** Config keys with a fixed set of values (picklists, booleans) and those values. */
export function configKeyChoices(): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [key, d] of Object.entries(CONFIG_KEYS)) {
    const schema = d.schema as { type?: string; options?: readonly unknown[] };
    if (schema.type === 'picklist' && schema.options) out[key] = schema.options.map(String);
    else if (typeof d.default === 'boolean') out[key] = ['true', 'false'];
  }
  return out;
}
