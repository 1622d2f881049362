import { GhostError } from '../../shared/errors.js';
import { escapeControl } from '../../shared/escape-control.js';

/** A path to copy from does not exist (the message says which side: local or NAME:). */
export class TransferSourceMissingError extends GhostError {
  readonly code = 'TRANSFER_SOURCE_MISSING';
}
/** A guest path exists but cannot be listed, opened or read (the guest's reason, escaped). */
export class TransferSourceError extends GhostError {
  readonly code = 'TRANSFER_SOURCE_FAILED';
}
/** A destination cannot be written (missing parent dir, a file where a dir is needed, permissions). */
export class TransferDestinationError extends GhostError {
  readonly code = 'TRANSFER_DESTINATION_FAILED';
}
/** A copy that went on past entries it refused (unsafe names from the guest): exit 74, not 0. */
export class TransferIncompleteError extends GhostError {
  readonly code = 'TRANSFER_INCOMPLETE';
}

/** SFTP's catch-all status: OpenSSH's sftp-server sends it for ENOSPC, EISDIR, EEXIST and more. */
export const SFTP_FAILURE = 4;

const HOST_ERRNO_REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: "no space left on this machine's disk",
  EDQUOT: 'disk quota exceeded on this machine',
  EISDIR: 'a directory of that name is in the way',
  ENOTDIR: 'a part of the path is not a directory',
  EEXIST: 'something of that name is in the way',
  ENOTEMPTY: 'a non-empty directory of that name is in the way',
  ENAMETOOLONG: 'the path is too long',
  EROFS: 'read-only file system',
  ELOOP: 'a symbolic link is in the way',
};

/** Why a host file operation failed, in words (errno names as a fallback, never Node's message with temp paths). */
export function hostReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (typeof code === 'string') return HOST_ERRNO_REASONS[code] ?? code;
  return escapeControl(String((err as Error | null)?.message ?? err));
}

/**
 * Why a guest SFTP request failed. The status text is the guest's (escaped); a bare "Failure" is
 * replaced by `failureHint` when the caller could find out more (a full disk, a file in the way).
 */
export function guestReason(err: unknown, failureHint?: string): string {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (e?.code === SFTP_FAILURE && failureHint) return failureHint;
  const text = escapeControl(String(e?.message ?? err));
  return e?.code === SFTP_FAILURE ? `the guest's SFTP server said only "${text}"` : text;
}

/** `cannot OP WHERE: REASON` — which operation on which path, for every failed step of a copy. */
export function destinationError(op: string, where: string, reason: string, err?: unknown): TransferDestinationError {
  return new TransferDestinationError(
    `cannot ${op} ${escapeControl(where)}: ${reason}`,
    err === undefined ? undefined : { cause: err },
  );
}
