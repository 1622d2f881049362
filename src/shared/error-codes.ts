/**
 * Every `code` a GhostError can carry: the one list of them. The host's exit-code table
 * (src/host/cli/exit-codes.ts) must map each to an exit code (`satisfies Record<ErrorCode, …>`), so a new
 * error cannot fall through to 70 ("a bug") unnoticed: adding its code here without a mapping, or giving a
 * class a code that is not here, fails to compile.
 */
export const ERROR_CODES = [
  'CHANNEL_CONNECT_FAILED',
  'CONFIG_EDITOR_FAILED',
  'CONFIG_INVALID',
  'CONFIG_UNKNOWN_KEY',
  'CONTROL_HANDSHAKE_FAILED',
  'FIRECRACKER_API_FAULT',
  'FIRECRACKER_API_UNREACHABLE',
  'FIRECRACKER_JAILER_CONFIG_INVALID',
  'FIRECRACKER_SNAPSHOT_FAILED',
  'IMAGE_APT_FAILED',
  'IMAGE_BUILD_FAILED',
  'IMAGE_DAMAGED',
  'IMAGE_NOT_FOUND',
  'IMAGE_PACKAGE_UNKNOWN',
  'IMAGE_SOURCE_INVALID',
  'IMAGE_TOOL_MISSING',
  'INTERNAL',
  'INTERRUPTED',
  'NET_START_FAILED',
  'NET_UNAVAILABLE',
  'PROTOCOL_VIOLATION',
  'QMP_FAILED',
  'REGISTRY_AUTH_FAILED',
  'REGISTRY_DIGEST_MISMATCH',
  'REGISTRY_NOT_FOUND',
  'REGISTRY_NO_PLATFORM',
  'REGISTRY_PROTOCOL',
  'REGISTRY_REFERENCE_INVALID',
  'REGISTRY_UNREACHABLE',
  'RELAY_POOL_BUSY',
  'SESSION_BOOT_FAILED',
  'SESSION_VM_LOST',
  'SNAPSHOT_FAILED',
  'SSH_CONNECT_FAILED',
  'SSH_HOST_KEY_MISMATCH',
  'STORE_INVALID_NAME',
  'STORE_NAME_TAKEN',
  'STORE_UNSAFE_DIR',
  'STORE_VM_NOT_RUNNING',
  'SUPERVISOR_CLIENT_DROPPED',
  'SUPERVISOR_NO_SUCH_VM',
  'SUPERVISOR_REQUEST_FAILED',
  'SUPERVISOR_WRONG_STATE',
  'TRANSFER_DESTINATION_FAILED',
  'TRANSFER_INCOMPLETE',
  'TRANSFER_SOURCE_FAILED',
  'TRANSFER_SOURCE_MISSING',
  'TUI_CONFIG_INVALID',
  'USAGE',
  'VM_BACKEND_UNAVAILABLE',
  'VM_EXITED',
  'VM_START_FAILED',
  'VM_STOP_FAILED',
  'VSOCK_CONNECT_TIMEOUT',
  'VSOCK_HANDSHAKE_INVALID',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}
