import { GhostError } from '../../shared/errors.js';

/** `pool start` while a pool runs: one pool per user (exit 73, like a VM name that is taken). */
export class PoolRunningError extends GhostError {
  readonly code = 'STORE_NAME_TAKEN';
}
/** `pool status` / `pool stop` with no pool running (exit 68, like a VM that is not running). */
export class PoolNotRunningError extends GhostError {
  readonly code = 'STORE_VM_NOT_RUNNING';
}
