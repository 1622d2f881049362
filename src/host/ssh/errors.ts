import { GhostError } from '../../shared/errors.js';

export class SshHostKeyMismatchError extends GhostError {
  readonly code = 'SSH_HOST_KEY_MISMATCH';
}
export class SshConnectError extends GhostError {
  readonly code = 'SSH_CONNECT_FAILED';
}
