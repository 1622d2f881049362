/**
 * The guest network for a VMM that needs a TAP device (Firecracker; QEMU with `qemu.nat = "tap"`), made
 * without root and without touching the host's network: a user + network namespace of our own holds
 *
 *     VMM ── vgtap0 ─┐
 *                    vgbr0 (bridge, no address)
 *     pasta ─ vgnat0 ┘
 *
 * pasta (the namespace mode of passt, the same binary and options as our QEMU NAT) attaches to the
 * namespace and makes its own TAP there, vgnat0; the bridge joins it to the VMM's TAP at layer 2. So the
 * guest talks to pasta exactly as a QEMU guest talks to passt: the same fixed addresses, gateway and DNS
 * forwarder (shared/guest-net.ts), and the same host-access rule, decided here on the host: without
 * `--net-host` pasta gets `--no-map-gw` and nothing reaches the host's loopback. IPv6 is off in the
 * namespace, so the bridge and the TAPs send nothing of their own that pasta could mistake for the guest.
 *
 * Nothing outlives the VM: the holder (the process whose namespaces these are) and pasta are spawned
 * through the VMM process module (parent-death signal), and the VMM enters the namespace through
 * `nsenter` with the same guard (enter()). pasta does not quit by itself when the holder goes (it keeps
 * the namespace alive: seen with Debian 12's pasta), so stop() ends both, and both command lines name
 * the VM dir, so `clean` can prove a leftover one ours.
 */
import { readFileSync } from 'node:fs';
import type { NetProfile } from '../../shared/guest-net.js';
import type { InstanceDir } from '../vm/driver.js';
import { settlesWithin, spawnVmm, terminate, type VmmProcess } from '../vm/vmm-process.js';
import { NetStartError } from './errors.js';
import { findNetnsTools, type NetnsTools } from './netns-tools.js';
import { guestNatArgs } from './passt.js';

export const NETNS_DEVICES = { tap: 'vgtap0', bridge: 'vgbr0', nat: 'vgnat0' } as const;
export const NETNS_FILES = { log: 'netns.log', pastaLog: 'pasta.log', hold: 'netns.hold' } as const;

const READY_TIMEOUT_MS = 15_000;
const READY_LINE = 'vg-netns: bridged';

/**
 * The holder's script (run by `unshare` inside the new namespaces): the bridge and the VMM's TAP, then
 * wait for pasta's TAP and bridge it, then block on a FIFO nobody writes, as a shell with no child: its
 * command line (`sh -c … vg-netns <dir>/netns.hold`) stays the one `clean` checks.
 */
export function holderScript(): string {
  const { tap, bridge, nat } = NETNS_DEVICES;
  return [
    'set -e',
    'sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1',
    'ip link set lo up',
    `ip link add ${bridge} type bridge`,
    `ip tuntap add dev ${tap} mode tap`,
    `ip link set ${tap} master ${bridge}`,
    `ip link set ${tap} up`,
    `ip link set ${bridge} up`,
    'echo "vg-netns: tap ready"',
    // pasta is started once the line above is seen; its TAP appears when it has attached.
    `until ip link set ${nat} master ${bridge} 2>/dev/null; do sleep 0.02; done`,
    `ip link set ${nat} up`,
    'mkfifo "$1"',
    `echo "${READY_LINE}"`,
    'read -r _ < "$1"',
  ].join('\n');
}

export function pastaArgs(opts: {
  holderPid: number;
  logPath: string;
  profile: Exclude<NetProfile, 'none'>;
  uid: number;
  gid: number;
}): string[] {
  return [
    '--quiet',
    '--foreground', // stays our child: a daemonized pasta would shed the parent-death signal with its fork
    '--runas', // as root it would switch to nobody, clearing the parent-death signal (see passt.ts)
    `${opts.uid}:${opts.gid}`,
    '--log-file',
    opts.logPath,
    '--ns-ifname',
    NETNS_DEVICES.nat,
    ...guestNatArgs(opts.profile),
    // Nor any port of the namespace's loopback out.
    '--tcp-ns',
    'none',
    '--udp-ns',
    'none',
    String(opts.holderPid),
  ];
}

export interface NetNamespace {
  /** The TAP the VMM opens (Firecracker's `host_dev_name`, QEMU's `ifname`). */
  readonly tap: string;
  readonly holder: VmmProcess;
  readonly pasta: VmmProcess;
  /** The holder and pasta: recorded in owner.json, so `clean` can end a leftover. */
  readonly pids: readonly number[];
  /** `argv` run inside the namespace (nsenter execs in place, so the pid and the parent-death guard stay). */
  enter(argv: readonly string[]): string[];
  stop(): Promise<void>;
}

/** Makes the namespace, TAP, bridge and NAT for the VM in `dir`; resolves once the TAP is ready for the VMM. */
export async function startNetNamespace(
  dir: InstanceDir,
  profile: Exclude<NetProfile, 'none'>,
  signal: AbortSignal,
): Promise<NetNamespace> {
  const tools = findNetnsTools();
  const log = dir.file(NETNS_FILES.log);
  const holder = spawnVmm(
    [
      tools.unshare,
      '--user',
      '--map-root-user',
      '--net',
      '--',
      '/bin/sh',
      '-c',
      holderScript(),
      'vg-netns',
      dir.file(NETNS_FILES.hold),
    ],
    { cwd: dir.path, stdoutPath: log, stderrPath: log, privateUmask: true, env: toolEnv(tools) },
  );
  let pasta: VmmProcess | undefined;
  const stop = async (): Promise<void> => {
    if (pasta) await terminate(pasta, 1000);
    await terminate(holder, 1000);
  };
  try {
    await waitForLine(log, 'vg-netns: tap ready', [holder], signal);
    const pastaLog = dir.file(NETNS_FILES.pastaLog);
    pasta = spawnVmm(
      [
        tools.pasta,
        ...pastaArgs({
          holderPid: holder.pid as number,
          logPath: pastaLog,
          profile,
          uid: process.getuid?.() ?? 0,
          gid: process.getgid?.() ?? 0,
        }),
      ],
      { cwd: dir.path, stdoutPath: pastaLog, stderrPath: pastaLog, privateUmask: true },
    );
    await waitForLine(log, READY_LINE, [holder, pasta], signal, pastaLog);
  } catch (err) {
    await stop();
    throw err;
  }
  const holderPid = holder.pid as number;
  const started = pasta;
  return {
    tap: NETNS_DEVICES.tap,
    holder,
    pasta: started,
    pids: [holderPid, started.pid].filter((p): p is number => p !== undefined),
    enter: (argv) => [
      tools.nsenter,
      `--target=${holderPid}`,
      '--user',
      '--net',
      // As we are: inside, our uid is the namespace's root, with the rights over its TAP the VMM needs.
      '--preserve-credentials',
      '--',
      ...argv,
    ],
    stop,
  };
}

/** `ip` and `sysctl` live in sbin, which a user's PATH may lack: the holder's PATH has both. */
function toolEnv(tools: NetnsTools): NodeJS.ProcessEnv {
  return { ...process.env, PATH: tools.path };
}

async function waitForLine(
  log: string,
  line: string,
  procs: readonly VmmProcess[],
  signal: AbortSignal,
  otherLog?: string,
): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    signal.throwIfAborted();
    const text = readText(log);
    if (text.includes(line)) return;
    const dead = procs.find((p) => p.hasExited);
    const why = () => `${tail(text)}${otherLog ? ` / pasta: ${tail(readText(otherLog))}` : ''}`;
    if (dead)
      throw new NetStartError(
        `the guest network's namespace could not be set up (${dead === procs[0] ? 'its holder' : 'pasta'} exited): ${why()}`,
      );
    if (Date.now() > deadline)
      throw new NetStartError(`the guest network's namespace was not ready within ${READY_TIMEOUT_MS} ms: ${why()}`);
    await settlesWithin(Promise.race(procs.map((p) => p.exited)), 10);
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

const tail = (text: string): string => text.trimEnd().split('\n').slice(-5).join(' / ') || '(no output)';
