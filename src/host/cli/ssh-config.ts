/**
 * `virtualghost ssh-config [NAME]`: OpenSSH `Host virtualghost-NAME` blocks for running named VMs. Written
 * to ~/.ssh/config or to a FILE for `ssh -F FILE virtualghost-NAME` (not `-F <(…)`: OpenSSH closes inherited
 * descriptors before it reads its config), they let ssh, scp, sftp, rsync -e and VS Code Remote-SSH reach
 * the guest through `virtualghost proxy NAME` with the per-VM key and the pinned host key: no prompt, no
 * trust-on-first-use. Keys and known_hosts live in the per-VM dir and go away with the VM.
 */
import { selfCommand } from '../install/self-command.js';
import { findNamedVm, hostAlias, listNamedVms, type NamedVmFiles } from '../store/named-vm-files.js';
import { ghostPaths } from '../store/paths.js';
import { notice } from './context.js';
import { CliUsageError } from './errors.js';
import { shellQuote } from '../shell-quote.js';

/**
 * ssh_config expands `%` tokens in ProxyCommand, IdentityFile and UserKnownHostsFile (`%%` is a literal
 * %), and takes double-quoted arguments; a path with a double quote or a line break cannot be written.
 */
function configWord(path: string): string {
  if (/["\n\r]/.test(path))
    throw new CliUsageError(
      `${JSON.stringify(path)} cannot be written into an ssh_config file (it holds a double quote or a line break); set XDG_RUNTIME_DIR to a plainer directory`,
    );
  return `"${path.replace(/%/g, '%%')}"`;
}

/** `command` is how to run this CLI (default: this very one, selfCommand()). */
export function sshConfigBlock(files: NamedVmFiles, ...command: string[]): string {
  const self = command.length > 0 ? command : selfCommand();
  self.forEach(configWord);
  // ProxyCommand is run by the user's shell: POSIX-quote each word, then protect ssh's own % tokens.
  const proxyCommand = shellQuote([...self, 'proxy', files.name]).replace(/%/g, '%%');
  return [
    `Host ${hostAlias(files.name)}`,
    '  User root',
    `  ProxyCommand ${proxyCommand}`,
    `  IdentityFile ${configWord(files.clientKey)}`,
    '  IdentitiesOnly yes',
    `  UserKnownHostsFile ${configWord(files.knownHosts)}`,
    `  HostKeyAlias ${hostAlias(files.name)}`,
    '  StrictHostKeyChecking yes',
    '  UpdateHostKeys no',
    // No LogLevel: OpenSSH's default (INFO) is what says why a forward failed ("channel 1: open failed:
    // connect failed: Connection refused"); ERROR would hide it, and nothing else is printed at INFO here.
    '',
  ].join('\n');
}

export function sshConfig(name: string | undefined): number {
  const paths = ghostPaths();
  const names = name !== undefined ? [name] : listNamedVms(paths);
  if (names.length === 0) notice('no named VMs are running (see `virtualghost ps`)');
  process.stdout.write(names.map((n) => sshConfigBlock(findNamedVm(paths, n))).join('\n'));
  return 0;
}
