import { GhostError } from '../../shared/errors.js';

/** Every guest SSH stream of the pool stayed in use for as long as a new relay client could wait. */
export class RelayPoolBusyError extends GhostError {
  readonly code = 'RELAY_POOL_BUSY';
}
