/** Pure parts of the CLI: POSIX quoting of argv for SSH exec, and the exit status of a guest command. */
import { execFileSync } from 'node:child_process';
import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import { statusFromExit } from '../../../src/host/cli/exec.js';
import { shellQuote } from '../../../src/host/shell-quote.js';

/** What a real POSIX shell makes of the quoted command line: the argv it would run, NUL-separated. */
function shellArgv(argv: string[]): string[] {
  const out = execFileSync('/bin/sh', ['-c', `printf '%s\\0' ${shellQuote(argv)}`], {
    encoding: 'utf8',
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: '/nonexistent', X: 'expanded' },
  });
  return out.split('\0').slice(0, -1);
}

describe('shellQuote', () => {
  const nasty = [
    'plain',
    'two words',
    "it's",
    '"dq"',
    '$X',
    '${X}',
    '`id`',
    '$(id)',
    'a\nb',
    'tab\there',
    '*',
    '?',
    '[a]',
    '~',
    '~/x',
    '',
    ' ',
    ';',
    '&&',
    '|',
    '>out',
    '<in',
    '#c',
    '\\',
    "'",
    "''",
    '-n',
    '--',
    'a=b',
    'é ünï',
    '!',
    '{a,b}',
  ];
  it('makes the shell see exactly the original arguments', () => {
    expect(shellArgv(nasty)).toEqual(nasty);
    for (const a of nasty) expect(shellArgv([a])).toEqual([a]);
  });
  it('leaves plain words readable', () => {
    expect(shellQuote(['uname', '-r'])).toBe('uname -r');
    expect(shellQuote(['ls', '/tmp/x.y', 'a=b'])).toBe('ls /tmp/x.y a=b');
  });
  it('keeps a command word with `=` a command, not a variable assignment', () => {
    // `exec -- FOO=1 env` must run a program called FOO=1 (like every other exec), not set a variable.
    const out = execFileSync('/bin/sh', ['-c', `${shellQuote(['X=1', 'true'])} 2>&1; echo "status=$?"`], {
      encoding: 'utf8',
    });
    expect(out).toMatch(/X=1.*not found/);
    expect(out).toMatch(/status=127/);
  });
});

describe('statusFromExit', () => {
  it('passes exit codes through', () => {
    for (const c of [0, 1, 7, 42, 255]) expect(statusFromExit(c, undefined)).toBe(c);
  });
  it('maps a signal to 128+N, with or without the SIG prefix (SSH sends names without it)', () => {
    expect(statusFromExit(null, 'TERM')).toBe(128 + constants.signals.SIGTERM);
    expect(statusFromExit(null, 'TERM')).toBe(143);
    expect(statusFromExit(null, 'KILL')).toBe(137);
    expect(statusFromExit(null, 'SIGINT')).toBe(130);
    expect(statusFromExit(0, 'SEGV')).toBe(128 + constants.signals.SIGSEGV);
  });
  it('reports a missing status as 255, like ssh(1)', () => {
    expect(statusFromExit(null, undefined)).toBe(255);
    expect(statusFromExit(undefined, undefined)).toBe(255);
  });
});
