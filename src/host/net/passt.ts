/**
 * The guest network's NAT for QEMU: one passt process per VM (Debian `passt`), which QEMU reaches over a
 * Unix stream socket in the per-VM dir (`-netdev stream`). passt needs no root and changes nothing on the
 * host: the guest's connections become ordinary sockets of this process.
 *
 * It cannot outlive its VM, two ways over: it is spawned through the VMM process module (parent-death
 * signal, umask 077), and with `--one-off` it exits as soon as QEMU, its only client, disconnects. As
 * root passt would switch to `nobody` (a credential change clears the parent-death signal, and nobody
 * could not bind in our 0700 dir), so it is told to stay who we are.
 *
 * Host access is decided here, on the host, never by the guest: without `--net-host` passt gets
 * `--no-map-gw`, so the gateway address is not mapped to the host's loopback and the guest has no way
 * to reach a service bound to 127.0.0.1. No inbound port is forwarded (`-t none -u none`).
 */
import { readFileSync } from 'node:fs';
import { GUEST_NET, type NetProfile } from '../../shared/guest-net.js';
import type { InstanceDir } from '../vm/driver.js';
import { settlesWithin, spawnVmm, terminate, type VmmProcess } from '../vm/vmm-process.js';
import { findExecutable } from '../vm/which.js';
import { NetStartError, NetUnavailableError } from './errors.js';

export const PASST_FILES = { socket: 'passt.sock', log: 'passt.log' } as const;

const READY_TIMEOUT_MS = 10_000;

export function passtArgs(opts: {
  socketPath: string;
  logPath: string;
  profile: Exclude<NetProfile, 'none'>;
  uid: number;
  gid: number;
}): string[] {
  return [
    '--quiet', // warnings and errors only (its stderr goes to the same log)
    '--foreground', // stays our child: a daemonized passt would shed the parent-death signal with its fork
    '--one-off',
    '--runas',
    `${opts.uid}:${opts.gid}`,
    '--socket',
    opts.socketPath,
    '--log-file',
    opts.logPath,
    ...guestNatArgs(opts.profile),
  ];
}

/**
 * What the guest sees of its NAT, the same through passt (QEMU) and pasta (net/netns.ts): its address,
 * gateway and resolver, no port of the host forwarded in, and the host's loopback unmapped unless host
 * access was asked for (the one place that rule is written).
 */
export function guestNatArgs(profile: Exclude<NetProfile, 'none'>): string[] {
  return [
    '--address',
    GUEST_NET.address,
    '--netmask',
    String(GUEST_NET.prefixLength),
    '--gateway',
    GUEST_NET.gateway,
    '--mac-addr',
    GUEST_NET.natMac,
    '--dns-forward',
    GUEST_NET.dns,
    '--tcp-ports',
    'none',
    '--udp-ports',
    'none',
    ...(profile === 'nat-host' ? [] : ['--no-map-gw']),
  ];
}

/** Where to find passt, or a clear reason why `--net` cannot work here. */
export function findPasst(): string {
  const bin = findExecutable('passt');
  if (!bin)
    throw new NetUnavailableError(
      '--net (net.mode = "nat") needs passt, the user-mode NAT, which is not on PATH: apt-get install passt (or `npm start`, which installs it)',
    );
  return bin;
}

export interface PasstProcess {
  readonly socketPath: string;
  readonly proc: VmmProcess;
  stop(): Promise<void>;
}

/** Starts passt for `dir` and resolves once its socket listens (QEMU's connect must not race its bind). */
export async function startPasst(
  dir: InstanceDir,
  profile: Exclude<NetProfile, 'none'>,
  signal: AbortSignal,
): Promise<PasstProcess> {
  const bin = findPasst();
  const socketPath = dir.file(PASST_FILES.socket);
  const logPath = dir.file(PASST_FILES.log);
  const args = passtArgs({ socketPath, logPath, profile, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 });
  const proc = spawnVmm([bin, ...args], {
    cwd: dir.path,
    stdoutPath: logPath,
    stderrPath: logPath,
    privateUmask: true,
  });
  const stop = async (): Promise<void> => void (await terminate(proc, 1000));
  try {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!isListening(socketPath)) {
      signal.throwIfAborted();
      if (proc.hasExited) throw new NetStartError(`passt exited before its socket listened: ${logTail(logPath)}`);
      if (Date.now() > deadline)
        throw new NetStartError(
          `passt's socket ${socketPath} did not listen within ${READY_TIMEOUT_MS} ms: ${logTail(logPath)}`,
        );
      await settlesWithin(proc.exited, 5);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { socketPath, proc, stop };
}

/**
 * Whether a listening Unix socket is bound at `path`, from /proc/net/unix (flag __SO_ACCEPTCON): a test
 * connection would itself be passt's one client and make a `--one-off` passt exit.
 */
export function isListening(path: string): boolean {
  let table: string;
  try {
    table = readFileSync('/proc/net/unix', 'utf8');
  } catch {
    return false;
  }
  // Num RefCount Protocol Flags Type St Inode Path; the path last (it may hold spaces).
  return table
    .split('\n')
    .some(
      (line) => line.endsWith(` ${path}`) && (Number.parseInt(line.trim().split(/\s+/)[3] ?? '0', 16) & 0x10000) !== 0,
    );
}

function logTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-5).join(' / ') || '(no output)';
  } catch {
    return '(no log)';
  }
}
