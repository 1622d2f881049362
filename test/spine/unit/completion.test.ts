/**
 * Shell completion generated from the commander tree: the bash script is syntax-checked and its function
 * is run in a real bash with COMP_WORDS/COMP_CWORD, the way bash calls it on Tab. A fake `virtualghost` on
 * PATH answers `ps -q` and `image ls`, so VM-name and image-id completion are exercised too. zsh and fish
 * are checked for syntax only where installed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Argument, Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completionScript } from '../../../src/host/cli/completion/index.js';
import { coreFunctions } from '../../../src/host/cli/completion/core.js';
import { completionModel } from '../../../src/host/cli/completion/model.js';
import { buildProgram } from '../../../src/host/cli/main.js';
import { CONFIG_KEYS } from '../../../src/host/config/schema.js';
import { runCli } from '../../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'vg-completion-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const has = (shell: string): boolean => spawnSync('sh', ['-c', `command -v ${shell}`]).status === 0;

/** A stand-in `virtualghost` on PATH: two VMs, one image; `ps -q` can be made to fail. */
function fakeBin(): string {
  const bin = join(dir, 'bin');
  execFileSync('mkdir', ['-p', bin]);
  const f = join(bin, 'virtualghost');
  writeFileSync(
    f,
    `#!/bin/sh
[ -n "$FAIL" ] && { echo broken >&2; exit 70; }
case "$1 $2" in
  "ps -q") printf 'devbox\\nbuild-1\\n' ;;
  "image ls") printf 'ID                KERNEL\\n0123456789abcdef  6.1.0-40-amd64\\n' ;;
esac
`,
  );
  chmodSync(f, 0o755);
  return bin;
}

/**
 * Runs the completion function for each command line (words split on spaces; a trailing space means
 * an empty word at the cursor) and returns what it proposed, sorted.
 */
function complete(script: string, lines: string[], env: NodeJS.ProcessEnv = {}): string[][] {
  const file = join(dir, `s${Math.random().toString(36).slice(2)}.bash`);
  writeFileSync(file, script);
  const calls = lines
    .map((l) => {
      const words = l
        .split(' ')
        .map((w) => `'${w}'`)
        .join(' ');
      return `COMP_WORDS=(${words}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _virtualghost; printf '%s\\n' "\${COMPREPLY[*]}"`;
    })
    .join('\n');
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', `source ${file}\n${calls}`], {
    encoding: 'utf8',
    env: { PATH: `${fakeBin()}:${process.env['PATH'] ?? ''}`, ...env },
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout
    .split('\n')
    .slice(0, lines.length)
    .map((l) => l.split(' ').filter(Boolean).sort());
}

describe('completion bash (the real CLI)', () => {
  let script = '';
  beforeAll(async () => {
    const r = await runCli(['completion', 'bash']);
    expect(r.code, r.stderr).toBe(0);
    script = r.stdout.toString();
  });

  it('is valid bash and registers itself for `virtualghost`', () => {
    const file = join(dir, 'syntax.bash');
    writeFileSync(file, script);
    expect(spawnSync('bash', ['-n', file], { encoding: 'utf8' }).stderr).toBe('');
    expect(script).toMatch(/^complete -F _virtualghost virtualghost$/m);
  });

  it('proposes exactly the real verbs, subverbs, options and option values', () => {
    const program = buildProgram(() => {});
    const verbs = program.commands
      .filter((c) => !(c as Command & { _hidden?: boolean })._hidden)
      .map((c) => c.name())
      .sort();
    const run = program.commands.find((c) => c.name() === 'run');
    const runLongs = [...(run?.options ?? []), ...program.options.filter((o) => o.long !== '--version')]
      .map((o) => o.long)
      .filter((l): l is string => l !== undefined);
    const [top, co, config, runOpts, backend, accel, shells] = complete(script, [
      'virtualghost ',
      'virtualghost co',
      'virtualghost config ',
      'virtualghost run --',
      'virtualghost run --backend ',
      'virtualghost --quiet run --vcpus 2 --accel t',
      'virtualghost completion ',
    ]);
    expect(top).toEqual(verbs);
    expect(verbs).toEqual(
      expect.arrayContaining(['run', 'exec', 'config', 'image', 'doctor', 'version', 'completion']),
    );
    expect(co).toEqual(['completion', 'config']);
    expect(config).toEqual(['edit', 'get', 'path', 'set', 'show', 'unset']);
    expect(runOpts).toEqual(expect.arrayContaining([...runLongs, '--help']));
    expect(runOpts).not.toContain('--version');
    expect(backend).toEqual(['auto', 'firecracker', 'qemu']);
    expect(accel).toEqual(['tcg']);
    expect(shells).toEqual(['bash', 'fish', 'zsh']);
  });

  it('config keys for get/set/unset, values of keys with fixed choices, image ids for `image rm`, nothing after `exec --`', () => {
    const [keys, tui, setValue, setBackend, setBool, images, guest] = complete(script, [
      'virtualghost config get ',
      'virtualghost config unset tui.',
      'virtualghost config set vcpus ',
      'virtualghost config set backend ',
      'virtualghost --quiet config set firecracker.jailer t',
      'virtualghost image rm ',
      'virtualghost exec --vcpus 2 -- ls -',
    ]);
    expect(keys).toEqual(Object.keys(CONFIG_KEYS).sort());
    expect(tui).toEqual(['tui.clipboard', 'tui.prefix', 'tui.scrollback', 'tui.status']);
    expect(setValue).toEqual([]);
    expect(setBackend).toEqual(['auto', 'firecracker', 'qemu']);
    expect(setBool).toEqual(['true']);
    expect(images).toEqual(['0123456789abcdef']);
    expect(guest).toEqual([]);
  });
});

describe('VM names from `ps -q` (a program with the verbs that take them)', () => {
  const program = new Command('virtualghost').option('--quiet');
  program.command('attach').argument('<name>');
  program.command('stop').argument('[names...]').option('--all');
  program.command('logs').argument('<vm>').option('--follow');
  program.command('exec').argument('[name]').argument('[command...]');
  program.command('exec2').argument('<[name] command...>');
  program.command('cp').argument('<src>').argument('<dst>');
  program.command('shell').addArgument(new Argument('<kind>').choices(['a', 'b']));
  const script = completionScript(program, 'bash');

  it('the model marks NAME arguments, cp paths and choices', () => {
    const byPath = Object.fromEntries(completionModel(program).map((n) => [n.path, n.args]));
    expect(byPath).toMatchObject({
      exec2: ['vm', 'none...'],
      attach: ['vm'],
      stop: ['vm...'],
      logs: ['vm'],
      exec: ['vm', 'none...'],
      cp: ['vmpath', 'vmpath'],
      shell: ['choice:a,b'],
    });
  });

  it('proposes running VMs, `NAME:` for cp, and tolerates a failing `ps -q`', () => {
    const [attach, stop, logs, exec, cp, cpRemote, cpSecond] = complete(script, [
      'virtualghost attach ',
      'virtualghost stop devbox b',
      'virtualghost logs --follow d',
      'virtualghost exec ',
      'virtualghost cp dev',
      'virtualghost cp devbox : /et',
      'virtualghost cp devbox : /etc/hosts bu',
    ]);
    expect(attach).toEqual(['build-1', 'devbox']);
    expect(stop).toEqual(['build-1']);
    expect(logs).toEqual(['devbox']);
    expect(exec).toEqual(['build-1', 'devbox']);
    expect(cp).toEqual(['devbox:']);
    expect(cpRemote).toEqual([]);
    expect(cpSecond).toEqual(['build-1:']);
    const [failing] = complete(script, ['virtualghost attach '], { FAIL: '1' });
    expect(failing).toEqual([]);
  });

  it("leaves the user's shell variables alone (completion runs inside their shell)", () => {
    const file = join(dir, 'vars.bash');
    writeFileSync(file, script);
    const out = execFileSync(
      'bash',
      [
        '--norc',
        '--noprofile',
        '-c',
        `source ${file}; opts=mine; args=a; cur=c; n=7; COMP_WORDS=(virtualghost attach ''); COMP_CWORD=2; _virtualghost; echo "$opts $args $cur $n"`,
      ],
      { encoding: 'utf8', env: { PATH: `${fakeBin()}:${process.env['PATH'] ?? ''}` } },
    );
    expect(out).toBe('mine a c 7\n');
  });
});

describe('the shared sh functions (what zsh and fish run)', () => {
  it('work under a plain POSIX sh, as fish runs them', () => {
    const core = coreFunctions(completionModel(buildProgram(() => {})));
    const next = (...words: string[]): string =>
      execFileSync('sh', ['-c', `${core}\n__virtualghost_next "$@"`, 'sh', ...words], { encoding: 'utf8' });
    expect(next('', 'image')).toBe('words\nbuild pull ls rm prune\n');
    expect(next('', 'run', '--accel')).toBe('words\nauto kvm tcg\n');
    expect(next('--f', 'image', 'build')).toMatch(/^words\n.*--force/);
    expect(next('', 'exec', '--', 'ls')).toBe('none\n');
  });

  it.skipIf(!has('zsh'))('zsh: the script parses', async () => {
    const r = await runCli(['completion', 'zsh']);
    const file = join(dir, 'c.zsh');
    writeFileSync(file, r.stdout);
    expect(spawnSync('zsh', ['-n', file], { encoding: 'utf8' }).stderr).toBe('');
  });

  it.skipIf(!has('fish'))('fish: the script parses', async () => {
    const r = await runCli(['completion', 'fish']);
    const file = join(dir, 'c.fish');
    writeFileSync(file, r.stdout);
    expect(spawnSync('fish', ['--no-execute', file], { encoding: 'utf8' }).stderr).toBe('');
  });

  it('an unknown shell is a usage error naming the choices', async () => {
    const r = await runCli(['completion', 'tcsh']);
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/bash, zsh, fish/);
  });
});
