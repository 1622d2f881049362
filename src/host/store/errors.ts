import { GhostError } from '../../shared/errors.js';

export class StoreUnsafeDirError extends GhostError {
  readonly code = 'STORE_UNSAFE_DIR';
}
/** A VM name that is not one (bad input on the command line, whichever verb it reached). */
export class StoreInvalidNameError extends GhostError {
  readonly code = 'STORE_INVALID_NAME';
}
export class StoreNameTakenError extends GhostError {
  readonly code = 'STORE_NAME_TAKEN';
}
/** No running named VM by that name: no per-VM dir, no relay socket in it, or its supervisor is gone. */
export class StoreVmNotRunningError extends GhostError {
  readonly code = 'STORE_VM_NOT_RUNNING';
}
