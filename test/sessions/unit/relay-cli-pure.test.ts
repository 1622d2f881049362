/** The pure parts of the named-VM verbs: exec's NAME before `--`, cp's NAME:/path, ssh-config's quoting. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCopyPath } from '../../../src/host/cli/cp.js';
import { splitExecOperands } from '../../../src/host/cli/exec.js';
import { sshConfigBlock } from '../../../src/host/cli/ssh-config.js';
import { namedVmFiles } from '../../../src/host/store/named-vm-files.js';
import { runTool, said } from '../../helpers/run-tool.js';

const raw = (...words: string[]): string[] => ['/usr/bin/node', '/x/bin/virtualghost.js', ...words];

describe('exec operands', () => {
  it('without NAME: everything after -- is the command (as before)', () => {
    expect(splitExecOperands(['uname', '-r'], raw('exec', '--', 'uname', '-r'))).toEqual({ argv: ['uname', '-r'] });
    expect(splitExecOperands(['true'], raw('exec', 'true'))).toEqual({ argv: ['true'] });
    expect(splitExecOperands(['wc', '-l'], raw('exec', '--accel', 'tcg', '--', 'wc', '-l'))).toEqual({
      argv: ['wc', '-l'],
    });
  });

  it('with NAME: the one operand before -- names the VM; a later -- belongs to the command', () => {
    expect(splitExecOperands(['dev', 'sh', '-c', 'x -- y'], raw('exec', 'dev', '--', 'sh', '-c', 'x -- y'))).toEqual({
      name: 'dev',
      argv: ['sh', '-c', 'x -- y'],
    });
    expect(splitExecOperands(['dev', 'ls', '--', 'a'], raw('exec', '-t', 'dev', '--', 'ls', '--', 'a'))).toEqual({
      name: 'dev',
      argv: ['ls', '--', 'a'],
    });
  });

  it('rejects two words before -- and an empty command', () => {
    expect(() => splitExecOperands(['a', 'b', 'c'], raw('exec', 'a', 'b', '--', 'c'))).toThrow(/at most one VM name/);
    expect(() => splitExecOperands(['dev'], raw('exec', 'dev', '--'))).toThrow(/needs a command/);
  });
});

describe('cp paths', () => {
  it('NAME:/path is remote; local paths with colons are not', () => {
    expect(parseCopyPath('dev:/root/x')).toEqual({ vm: 'dev', path: '/root/x' });
    expect(parseCopyPath('dev:rel/x')).toEqual({ vm: 'dev', path: 'rel/x' });
    expect(parseCopyPath('dev:')).toEqual({ vm: 'dev', path: '.' });
    expect(parseCopyPath('./a:b')).toBe('./a:b');
    expect(parseCopyPath('/tmp/a:b')).toBe('/tmp/a:b');
    expect(parseCopyPath('plain')).toBe('plain');
  });
});

describe('ssh-config', () => {
  it('writes paths with spaces, quotes and % so that OpenSSH reads them back exactly (ssh -G)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'vg cfg 100%-'));
    try {
      const files = namedVmFiles(join(root, 'vms', 'dev'), 'dev');
      const node = join(root, "it's node");
      const bin = join(root, 'bin $HOME', 'virtualghost.js');
      const cfg = join(root, 'config');
      writeFileSync(cfg, sshConfigBlock(files, node, bin), { mode: 0o600 });
      const r = await runTool('ssh', ['-G', '-F', cfg, 'virtualghost-dev']);
      expect(r.code, said(r)).toBe(0);
      // `ssh -G` shows IdentityFile and ProxyCommand before ssh's own %-token expansion (which turns `%%`
      // into `%` when they are used), UserKnownHostsFile after it.
      // Every % must be written as %% (a lone `%-` would be an unknown token, and ssh would refuse it).
      const unescape = (v: string): string => {
        expect(v).toMatch(/^(?:[^%]|%%)*$/);
        return v.replace(/%%/g, '%');
      };
      const seen = new Map(
        r.stdout
          .toString()
          .trim()
          .split('\n')
          .map((l) => [l.slice(0, l.indexOf(' ')), l.slice(l.indexOf(' ') + 1)] as const),
      );
      for (const key of ['identityfile', 'proxycommand']) seen.set(key, unescape(seen.get(key) ?? ''));
      expect(seen.get('identityfile')).toBe(files.clientKey);
      expect(seen.get('userknownhostsfile')).toBe(files.knownHosts);
      expect(seen.get('hostkeyalias')).toBe('virtualghost-dev');
      expect(seen.get('stricthostkeychecking')).toBe('true');
      expect(seen.get('identitiesonly')).toBe('yes');
      expect(seen.get('user')).toBe('root');
      // The shell gets each word back intact.
      const proxy = seen.get('proxycommand') ?? '';
      const words = await runTool('sh', ['-c', `printf '%s\\n' ${proxy}`]);
      expect(words.stdout.toString().split('\n').slice(0, 4)).toEqual([node, bin, 'proxy', 'dev']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('refuses a path OpenSSH cannot represent', () => {
    const files = namedVmFiles('/tmp/a"b/dev', 'dev');
    expect(() => sshConfigBlock(files, '/usr/bin/node', '/x/bin/virtualghost.js')).toThrow(/double quote/);
  });
});
