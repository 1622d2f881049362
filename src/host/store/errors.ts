import { GhostError } from '../../shared/errors.js';

export class StoreUnsafeDirError extends GhostError {
  readonly code = 'STORE_UNSAFE_DIR';
}
export class StoreNameTakenError extends GhostError {
  readonly code = 'STORE_NAME_TAKEN';
}
