/** --quiet/--verbose before or after the verb, and a verb's own --quiet (ps: names only) left to it. */
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { addOutputFlags, allCommands, outputFlags } from '../../../src/host/cli/output-flags.js';
import type { OutputMode } from '../../../src/host/cli/output.js';

function parse(argv: string[]): { mode: Partial<OutputMode>; ps?: { quiet?: boolean } } {
  const program = new Command('virtualghost').exitOverride();
  addOutputFlags(program);
  let mode: Partial<OutputMode> = {};
  let ps: { quiet?: boolean } | undefined;
  program.hook('preAction', (_p, action) => void (mode = outputFlags(action)));
  program
    .command('exec')
    .argument('<command...>')
    .action(() => {});
  program
    .command('ps')
    .option('-q, --quiet', 'names only')
    .action((o: { quiet?: boolean }) => void (ps = o));
  program
    .command('config')
    .command('get')
    .argument('<key>')
    .action(() => {});
  for (const c of allCommands(program)) addOutputFlags(c);
  program.parse(argv, { from: 'user' });
  return { mode, ...(ps ? { ps } : {}) };
}

describe('output flags', () => {
  it('work before the verb, after it, and between verb and subverb', () => {
    expect(parse(['--quiet', 'exec', '--', 'ls']).mode).toEqual({ quiet: true });
    expect(parse(['exec', '--verbose', '--', 'ls', '--quiet']).mode).toEqual({ verbose: true });
    expect(parse(['config', '--quiet', 'get', 'k']).mode).toEqual({ quiet: true });
    expect(parse(['config', 'get', 'k', '--verbose']).mode).toEqual({ verbose: true });
    expect(parse(['exec', '--', 'ls']).mode).toEqual({});
  });

  it("leave a verb's own --quiet to it", () => {
    expect(parse(['ps', '--quiet'])).toEqual({ mode: {}, ps: { quiet: true } });
    expect(parse(['ps', '-q'])).toEqual({ mode: {}, ps: { quiet: true } });
    expect(parse(['--quiet', 'ps'])).toEqual({ mode: { quiet: true }, ps: {} });
  });
});
