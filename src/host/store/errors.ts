import { GhostError } from '../../shared/errors.js';

export class StoreUnsafeDirError extends GhostError {
  readonly code = 'STORE_UNSAFE_DIR';
}
export class StoreNameTakenError extends GhostError {
  readonly code = 'STORE_NAME_TAKEN';
}
/** No running named VM by that name: no per-VM dir, or no relay socket in it. */
export class StoreVmNotRunningError extends GhostError {
  readonly code = 'STORE_VM_NOT_RUNNING';
}
