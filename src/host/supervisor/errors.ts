import type { ErrorCode } from '../../shared/error-codes.js';
import { GhostError } from '../../shared/errors.js';

/** No running (or kept) VM of that name. */
export class SupervisorNoSuchVmError extends GhostError {
  readonly code = 'SUPERVISOR_NO_SUCH_VM';
}
/** The supervisor did not answer, answered nonsense, or refused the request. */
export class SupervisorRequestError extends GhostError {
  readonly code = 'SUPERVISOR_REQUEST_FAILED';
}
/** The supervisor disconnected this client: it fell too far behind a shell's output (re-attaching works). */
export class SupervisorClientDroppedError extends GhostError {
  readonly code = 'SUPERVISOR_CLIENT_DROPPED';
}
/** The VM is in a state that does not allow the request (e.g. `rm` of a running VM). */
export class SupervisorStateError extends GhostError {
  readonly code = 'SUPERVISOR_WRONG_STATE';
}
/** A failure inside the supervisor process while starting, carried to the launching command with its code. */
export class SupervisorStartError extends GhostError {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}
/** Every guest SSH stream of the pool stayed in use for as long as a new relay client could wait. */
export class RelayPoolBusyError extends GhostError {
  readonly code = 'RELAY_POOL_BUSY';
}
