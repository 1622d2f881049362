/**
 * The one table of exit codes. `exec` and `run` pass the guest command's own status through (0–255,
 * 128+N for signal N); VirtualGhost's own failures use the sysexits range so scripts can tell them apart
 * in practice. Keep README's table in sync (a test checks it).
 */
import { isErrorCode, type ErrorCode } from '../../shared/error-codes.js';

export const EXIT_CODES = {
  OK: { code: 0, meaning: "success (or the guest command's own status)" },
  USAGE: { code: 64, meaning: 'bad command line (unknown flag, missing argument, invalid VM name)' },
  CONFIG: {
    code: 65,
    meaning:
      'invalid configuration file, environment variable or flag value, such as an unknown package in `--package` / `image.packages` (or a `config edit` not saved)',
  },
  IMAGE_MISSING: {
    code: 66,
    meaning:
      'the requested image is not in the cache, or is damaged (the message says how to replace it), or its registry has no such reference or no linux/amd64 image',
  },
  NO_SUCH_VM: {
    code: 68,
    meaning:
      'no VM of that name, or it is not running: stopped, or dead (see `virtualghost ps`); `pool status`/`stop` with no pool running',
  },
  BACKEND_UNAVAILABLE: {
    code: 69,
    meaning:
      'no usable VMM (QEMU/Firecracker missing, KVM unusable when required), no guest network where `--net` asks for one, or the VMM cannot do what was asked (`--keep` on Firecracker); an image registry that cannot be reached',
  },
  INTERNAL: { code: 70, meaning: 'unexpected internal error (a bug: please report it)' },
  IMAGE_BUILD: { code: 71, meaning: 'the guest image could not be built (apt, mmdebstrap, tools missing)' },
  VM_STATE: {
    code: 72,
    meaning: 'the VM is not in a state that allows this (e.g. `rm` of a running VM, `attach` to a throw-away run)',
  },
  NAME_TAKEN: {
    code: 73,
    meaning: 'a VM with that name already exists, or a standby pool already runs (`pool start`)',
  },
  TRANSFER: {
    code: 74,
    meaning:
      'cp: a source path is missing or unreadable, a destination cannot be written, or unsafe entries from the guest were refused',
  },
  BOOT: { code: 75, meaning: 'the VM did not boot or its agent did not answer' },
  PROTOCOL: {
    code: 76,
    meaning:
      'SSH or control-protocol failure (including a host key that does not match the pinned one), or an attached terminal dropped for falling too far behind; a registry answer that breaks the distribution spec, or a blob or manifest whose digest or size is wrong',
  },
  PERMISSION: {
    code: 77,
    meaning:
      'unsafe or foreign state directory, or an action that needs root; a registry that refuses access (401/403)',
  },
  REVIEW: {
    code: 78,
    meaning:
      '`--review`: the changes were not applied in full (a conflict with a change made on this machine, entries from the guest refused) or could not be fetched or written',
  },
  VM_LOST: { code: 79, meaning: 'the VM died during the session' },
  INTERRUPTED: { code: 130, meaning: 'interrupted (Ctrl-C / SIGINT); 128+N for other signals' },
} as const;

export type ExitClass = keyof typeof EXIT_CODES;

/** Each error code's exit class; the compiler requires every ErrorCode to be here, and nothing else. */
const BY_ERROR_CODE = {
  CONFIG_INVALID: 'CONFIG',
  CONFIG_UNKNOWN_KEY: 'CONFIG',
  CONFIG_EDITOR_FAILED: 'CONFIG',
  TUI_CONFIG_INVALID: 'CONFIG',
  IMAGE_NOT_FOUND: 'IMAGE_MISSING',
  // A typo in image.packages / --package is a bad setting, found before anything is built.
  IMAGE_PACKAGE_UNKNOWN: 'CONFIG',
  IMAGE_SOURCE_INVALID: 'CONFIG',
  IMAGE_DAMAGED: 'IMAGE_MISSING',
  IMAGE_BUILD_FAILED: 'IMAGE_BUILD',
  IMAGE_APT_FAILED: 'IMAGE_BUILD',
  IMAGE_TOOL_MISSING: 'IMAGE_BUILD',
  VM_BACKEND_UNAVAILABLE: 'BACKEND_UNAVAILABLE',
  NET_UNAVAILABLE: 'BACKEND_UNAVAILABLE',
  NET_START_FAILED: 'BOOT',
  STORE_NAME_TAKEN: 'NAME_TAKEN',
  STORE_UNSAFE_DIR: 'PERMISSION',
  STORE_INVALID_NAME: 'USAGE',
  VM_START_FAILED: 'BOOT',
  SESSION_BOOT_FAILED: 'BOOT',
  CONTROL_HANDSHAKE_FAILED: 'BOOT',
  CHANNEL_CONNECT_FAILED: 'BOOT',
  // Firecracker's hybrid vsock: a guest that never answers is the same failure as on QEMU.
  VSOCK_CONNECT_TIMEOUT: 'BOOT',
  VSOCK_HANDSHAKE_INVALID: 'PROTOCOL',
  SSH_CONNECT_FAILED: 'PROTOCOL',
  SSH_HOST_KEY_MISMATCH: 'PROTOCOL',
  PROTOCOL_VIOLATION: 'PROTOCOL',
  QMP_FAILED: 'BOOT',
  SESSION_VM_LOST: 'VM_LOST',
  VM_EXITED: 'VM_LOST',
  USAGE: 'USAGE',
  SUPERVISOR_NO_SUCH_VM: 'NO_SUCH_VM',
  SUPERVISOR_WRONG_STATE: 'VM_STATE',
  SUPERVISOR_REQUEST_FAILED: 'PROTOCOL',
  SUPERVISOR_CLIENT_DROPPED: 'PROTOCOL',
  INTERRUPTED: 'INTERRUPTED',
  STORE_VM_NOT_RUNNING: 'NO_SUCH_VM',
  TRANSFER_SOURCE_MISSING: 'TRANSFER',
  TRANSFER_DESTINATION_FAILED: 'TRANSFER',
  TRANSFER_SOURCE_FAILED: 'TRANSFER',
  TRANSFER_INCOMPLETE: 'TRANSFER',
  RELAY_POOL_BUSY: 'BOOT',
  // Registry pulls (src/host/image/registry/): a bad reference is a bad flag/config value; a reference the
  // registry does not have is an image that is not there; refused access is a permission problem.
  REGISTRY_REFERENCE_INVALID: 'CONFIG',
  REGISTRY_NOT_FOUND: 'IMAGE_MISSING',
  REGISTRY_NO_PLATFORM: 'IMAGE_MISSING',
  REGISTRY_UNREACHABLE: 'BACKEND_UNAVAILABLE',
  REGISTRY_AUTH_FAILED: 'PERMISSION',
  REGISTRY_DIGEST_MISMATCH: 'PROTOCOL',
  REGISTRY_PROTOCOL: 'PROTOCOL',
  REVIEW_FAILED: 'REVIEW',
  REVIEW_INVALID: 'CONFIG',
  INTERNAL: 'INTERNAL',
  // Firecracker: its API refusing a request or not answering, or a snapshot step failing, means the VM
  // could not be started (as QEMU's QMP failures); a jailer setting that cannot work is configuration.
  FIRECRACKER_API_FAULT: 'BOOT',
  FIRECRACKER_API_UNREACHABLE: 'BOOT',
  FIRECRACKER_SNAPSHOT_FAILED: 'BOOT',
  FIRECRACKER_JAILER_CONFIG_INVALID: 'CONFIG',
  // A warm snapshot that cannot be made is reported and the VM boots cold; if it still surfaces, the VM
  // did not start.
  SNAPSHOT_FAILED: 'BOOT',
  // The VMM would not stop (stop, rm, clean): the VM is not in a state that allows the request.
  VM_STOP_FAILED: 'VM_STATE',
} as const satisfies Record<ErrorCode, ExitClass>;

export function exitCodeFor(err: unknown): number {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    if (isErrorCode(code)) return EXIT_CODES[BY_ERROR_CODE[code]].code;
  }
  if ((err as Error | null)?.name === 'AbortError') return EXIT_CODES.INTERRUPTED.code;
  return EXIT_CODES.INTERNAL.code;
}
