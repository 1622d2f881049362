/**
 * The names of the files in a VM's instance dir (runtime, 0700) that more than one module reads or writes,
 * as Lima keeps its in `pkg/limatype/filenames`. The VMM drivers' own files (QEMU's overlay and QMP
 * socket, Firecracker's API socket) stay in their drivers' tables, which take these names from here.
 */
export const INSTANCE_FILES = {
  /** The guest's serial console, whichever VMM wrote it. */
  console: 'console.log',
  qemuLog: 'qemu.log',
  firecrackerLog: 'firecracker.log',
  /** Firecracker's own stderr (its panics and start-up errors land here, not in firecracker.log). */
  firecrackerStderr: 'firecracker.stderr.log',
  supervisorLog: 'supervisor.log',
  /** A throw-away run's published-port lines while its TUI has the terminal (named VMs: supervisor.log). */
  portsLog: 'ports.log',
  supervisorSocket: 'supervisor.sock',
  vmRecord: 'vm.json',
  owner: 'owner.json',
  /** The named VM's SSH relay socket that OpenSSH's ProxyCommand, exec, cp and attach connect to. */
  relaySocket: 'ssh.sock',
  clientKey: 'client_ed25519',
  clientPublicKey: 'client_ed25519.pub',
  knownHosts: 'known_hosts',
} as const;

/**
 * Every log a VM can leave besides its console, in the order `logs` prints them and `stop --keep` saves
 * them: the VMM's (either backend) and then the supervisor's.
 */
export const VMM_AND_SUPERVISOR_LOGS = [
  INSTANCE_FILES.qemuLog,
  INSTANCE_FILES.firecrackerLog,
  INSTANCE_FILES.firecrackerStderr,
  INSTANCE_FILES.supervisorLog,
  INSTANCE_FILES.portsLog,
] as const;
