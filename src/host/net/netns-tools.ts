/**
 * What the rootless TAP network (netns.ts) needs of the host, found or explained: the tools, /dev/net/tun,
 * and unprivileged user namespaces. `doctor` prints the same reasons a failed `--net` start gives.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter } from 'node:path';
import { findExecutable } from '../vm/which.js';
import { NetUnavailableError } from './errors.js';

export interface NetnsTools {
  readonly unshare: string;
  readonly nsenter: string;
  readonly pasta: string;
  readonly ip: string;
  readonly sysctl: string;
  /** PATH for the namespace's holder script (ours plus the sbin dirs `ip` and `sysctl` may live in). */
  readonly path: string;
}

const TOOLS = {
  unshare: { package: 'util-linux', why: 'makes the user + network namespace' },
  nsenter: { package: 'util-linux', why: 'starts the VMM inside that namespace' },
  pasta: { package: 'passt', why: 'the user-mode NAT attached to the namespace' },
  ip: { package: 'iproute2', why: 'makes the TAP device and the bridge' },
  sysctl: { package: 'procps', why: 'turns IPv6 off inside the namespace' },
} as const;

const SBIN = ['/usr/local/sbin', '/usr/sbin', '/sbin'];
const toolPath = (pathEnv = process.env.PATH ?? ''): string =>
  [...pathEnv.split(delimiter), ...SBIN].filter(Boolean).join(delimiter);

export const TUN_DEVICE = '/dev/net/tun';

/** Every reason the namespace + TAP network cannot be made here; empty when it can. */
export function netnsMissing(opts: { tryNamespace?: boolean; pathEnv?: string; tunDevice?: string } = {}): string[] {
  const path = toolPath(opts.pathEnv);
  const tun = opts.tunDevice ?? TUN_DEVICE;
  const missing: string[] = [];
  for (const [name, t] of Object.entries(TOOLS))
    if (!findExecutable(name, path)) missing.push(`${name} is not on PATH (${t.why}): apt-get install ${t.package}`);
  try {
    accessSync(tun, constants.R_OK | constants.W_OK);
  } catch (err) {
    missing.push(
      `${tun} cannot be opened for reading and writing (${(err as NodeJS.ErrnoException).code ?? String(err)}): the VMM's TAP device needs it; load the tun module (modprobe tun) and make it mode 0666, as distributions ship it`,
    );
  }
  const unshare = findExecutable('unshare', path);
  if (unshare && opts.tryNamespace !== false) {
    const r = spawnSync(unshare, ['--user', '--map-root-user', '--net', '--', 'true'], {
      encoding: 'utf8',
      timeout: 5000,
    });
    if (r.status !== 0)
      missing.push(
        `an unprivileged user + network namespace cannot be made (unshare: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()})${userNsHint()}`,
      );
  }
  return missing;
}

/** The host setting that most likely forbids user namespaces, and the one to change. */
function userNsHint(): string {
  const read = (p: string): string | undefined => {
    try {
      return readFileSync(p, 'utf8').trim();
    } catch {
      return undefined;
    }
  };
  if (read('/proc/sys/kernel/unprivileged_userns_clone') === '0')
    return ': kernel.unprivileged_userns_clone is 0; set it to 1 (sysctl -w kernel.unprivileged_userns_clone=1)';
  if (read('/proc/sys/user/max_user_namespaces') === '0')
    return ': user.max_user_namespaces is 0; raise it (sysctl -w user.max_user_namespaces=10000)';
  if (read('/proc/sys/kernel/apparmor_restrict_unprivileged_userns') === '1')
    return ': AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1)';
  return '';
}

/** The tools, or NetUnavailableError naming everything that is missing. */
export function findNetnsTools(): NetnsTools {
  const path = toolPath();
  const found = Object.fromEntries(Object.keys(TOOLS).map((name) => [name, findExecutable(name, path)]));
  const missing = netnsMissing({ tryNamespace: false });
  if (missing.length > 0 || Object.values(found).some((bin) => bin === undefined))
    throw new NetUnavailableError(`--net needs a TAP device in a user + network namespace: ${missing.join('; ')}`);
  return { ...(found as Omit<NetnsTools, 'path'>), path };
}
