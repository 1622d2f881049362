/**
 * Every configuration key, its type, default and meaning. The one table that `config show`, `get`,
 * `set`, env (`VIRTUALGHOST_<KEY>`, dots as `__`) and flags all go through.
 */
import * as v from 'valibot';
import { editDistance, typoDistance } from '../../shared/edit-distance.js';
import { IMAGE_SOURCE_HELP, parseImageSource } from '../image/oci/image-source.js';
import { invalidPackageNames, PACKAGE_NAME_RULE } from '../image/package-names.js';
import { isRegistryHost } from '../image/registry/reference.js';
import { prefixKeyProblem } from '../tui/keys.js';
import { MOUNT_SYNTAX, mountsProblem } from '../workspace/mount-spec.js';

const memory = v.pipe(
  v.union([v.number(), v.string()]),
  v.transform((x) => parseMemoryMiB(x)),
  v.check((n) => Number.isInteger(n) && n >= 128 && n <= 65536, 'a size from 128M to 64G, such as "512M" or "2G"'),
);

export function parseMemoryMiB(x: number | string): number {
  if (typeof x === 'number') return x;
  const m = /^\s*(\d+)\s*([MmGg])?i?[Bb]?\s*$/.exec(x);
  if (!m) return Number.NaN;
  const n = Number(m[1]);
  return m[2]?.toLowerCase() === 'g' ? n * 1024 : n;
}

const duration = v.pipe(
  v.union([v.number(), v.string()]),
  v.transform((x) => parseDurationSec(x)),
  v.check(
    (n) => Number.isInteger(n) && n >= 10 && n <= 7 * 86400,
    'a duration from 10s to 7d, such as "30m", "2h" or "90s"',
  ),
);

/** "90s", "30m", "2h", "1d" (plain numbers are seconds) → seconds; NaN if it is none of those. */
export function parseDurationSec(x: number | string): number {
  if (typeof x === 'number') return x;
  const m = /^\s*(\d+)\s*([smhd])?\s*$/i.exec(x);
  if (!m) return Number.NaN;
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's').toLowerCase() as 's' | 'm' | 'h' | 'd'];
}

const packageNames = v.pipe(
  v.array(v.string()),
  v.check(
    (names) => invalidPackageNames(names).length === 0,
    (issue) =>
      `${invalidPackageNames(issue.input as string[])
        .map((n) => JSON.stringify(n))
        .join(', ')} is not ${PACKAGE_NAME_RULE}`,
  ),
);

// `-v` strings or `[[mounts]]` tables, as written (so `config set` stores what it was given); the one parser
// (workspace/mount-spec.ts) decides what is valid.
const mounts = v.pipe(
  v.array(v.union([v.string(), v.record(v.string(), v.unknown())])),
  v.check(
    (entries) => mountsProblem(entries) === undefined,
    (issue) => mountsProblem(issue.input as unknown[]) ?? `a list of ${MOUNT_SYNTAX}`,
  ),
);

export const CONFIG_KEYS = {
  vcpus: {
    schema: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(64)),
    default: 1,
    help: 'virtual CPUs per VM (an integer 1–64)',
  },
  memory: { schema: memory, default: 512, help: 'guest memory, e.g. "512M" or "2G" (plain numbers are MiB)' },
  backend: {
    schema: v.picklist(['auto', 'qemu', 'firecracker']),
    default: 'auto',
    help: 'VMM: "auto" (Firecracker where it can run, else QEMU), "qemu" or "firecracker"',
  },
  accel: {
    schema: v.picklist(['auto', 'kvm', 'tcg']),
    default: 'auto',
    help: 'QEMU acceleration: "auto" (KVM if it really runs a guest, else TCG), "kvm" or "tcg"',
  },
  image: {
    schema: v.pipe(
      v.string(),
      v.check((s) => parseImageSource(s) !== undefined, IMAGE_SOURCE_HELP),
    ),
    default: 'default',
    help: 'guest image: "default" (built from the current recipe), an image id, oci:PATH, docker-archive:FILE.tar or a registry reference',
  },
  'image.packages': {
    schema: packageNames,
    default: [] as string[],
    help: 'extra Debian packages in the default image, e.g. ["git", "python3"]: each set is its own image, built once',
  },
  'image.insecure_registries': {
    schema: v.array(v.pipe(v.string(), v.check(isRegistryHost, 'a registry host such as "registry.lan:5000"'))),
    default: [] as string[],
    help: 'registries (host or host:port) pulled from over plain http; loopback ones (localhost, 127.0.0.0/8, ::1) always are',
  },
  mounts: {
    schema: mounts,
    default: [] as Array<string | Record<string, unknown>>,
    help: `host dirs in the VM: [[mounts]] tables (host, guest, readonly) or ${MOUNT_SYNTAX} strings`,
  },
  'net.mode': {
    schema: v.picklist(['none', 'nat']),
    default: 'none',
    help: 'guest network: "none" (no network interface: the guest reaches nothing) or "nat" (outbound through a user-mode NAT: passt on QEMU, a TAP in a user + network namespace with pasta on Firecracker)',
  },
  'net.host_access': {
    schema: v.boolean(),
    default: false,
    help: 'with net.mode = "nat": let the guest reach services on the host\'s loopback (127.0.0.1) as host.virtualghost.internal',
  },
  'qemu.nat': {
    schema: v.picklist(['passt', 'tap']),
    default: 'passt',
    help: 'with net.mode = "nat" on QEMU: "passt" (a socket to passt) or "tap" (the TAP in a user + network namespace with pasta, as the Firecracker backend uses)',
  },
  'qemu.bin': {
    schema: v.pipe(v.string(), v.minLength(1)),
    default: 'qemu-system-x86_64',
    help: 'QEMU binary (name on PATH or absolute path)',
  },
  'firecracker.bin': {
    schema: v.pipe(v.string(), v.minLength(1)),
    default: 'firecracker',
    help: 'Firecracker binary (name on PATH or absolute path)',
  },
  'firecracker.kvm_check': {
    schema: v.boolean(),
    default: true,
    help: 'check that KVM can really run a guest before using Firecracker',
  },
  'firecracker.jailer': {
    schema: v.boolean(),
    default: false,
    help: 'run Firecracker under its jailer (needs root; see firecracker.jailer_* keys)',
  },
  'firecracker.jailer_bin': {
    schema: v.pipe(v.string(), v.minLength(1)),
    default: 'jailer',
    help: 'jailer binary (name on PATH or absolute path)',
  },
  'firecracker.jailer_uid': {
    schema: v.pipe(v.number(), v.integer(), v.minValue(0)),
    default: 65534,
    help: 'uid the jailed Firecracker runs as',
  },
  'firecracker.jailer_gid': {
    schema: v.pipe(v.number(), v.integer(), v.minValue(0)),
    default: 65534,
    help: 'gid the jailed Firecracker runs as',
  },
  'firecracker.jailer_chroot_base': {
    schema: v.pipe(v.string(), v.regex(/^\//, 'an absolute path')),
    default: '/srv/jailer',
    help: "the jailer's --chroot-base-dir",
  },
  'pool.size': {
    schema: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(8)),
    default: 1,
    help: 'standby pool: how many warm VMs `pool start` keeps ready (1–8)',
  },
  'pool.idle_timeout': {
    schema: duration,
    default: 1800,
    help: 'standby pool: stop it after this long without a claim, e.g. "30m" (plain numbers are seconds)',
  },
  'pool.autostart': {
    schema: v.boolean(),
    default: false,
    help: 'standby pool: `run` and `exec` start one in the background when none is running',
  },
  'tui.status': { schema: v.picklist(['top', 'bottom']), default: 'bottom', help: 'where the status line goes' },
  // The TUI's own parser decides (one home): a key it would refuse (e.g. "C-[", which is Escape) is refused
  // here, when the config is read, not after a VM has booted.
  'tui.prefix': {
    schema: v.pipe(
      v.string(),
      v.check(
        (k) => prefixKeyProblem(k) === undefined,
        (issue) => prefixKeyProblem(String(issue.input)) ?? 'a control key such as "C-]" or "C-b"',
      ),
    ),
    default: 'C-]',
    help: 'prefix key for TUI commands',
  },
  'tui.clipboard': {
    schema: v.picklist(['ask', 'allow', 'deny']),
    default: 'ask',
    help: 'what to do when the guest sets the clipboard (OSC 52)',
  },
  'tui.scrollback': {
    schema: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(1_000_000)),
    default: 10_000,
    help: 'scrollback lines per tab',
  },
} as const;

export type ConfigKey = keyof typeof CONFIG_KEYS;
export type ConfigValues = { [K in ConfigKey]: v.InferOutput<(typeof CONFIG_KEYS)[K]['schema']> };

export const isConfigKey = (k: string): k is ConfigKey => Object.hasOwn(CONFIG_KEYS, k);

export function defaults(): ConfigValues {
  const out: Record<string, unknown> = {};
  for (const [k, d] of Object.entries(CONFIG_KEYS)) out[k] = d.default;
  return out as ConfigValues;
}

/** Closest known key by edit distance, for "did you mean". */
export function suggestKey(k: string): string | undefined {
  return closest(k, Object.keys(CONFIG_KEYS));
}

/** The candidate nearest to `word` by edit distance, if it is near enough to be a likely typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestD) [best, bestD] = [c, d];
  }
  return bestD <= typoDistance(word) ? best : undefined;
}
