import { GhostError } from '../../shared/errors.js';

export class VmBackendUnavailableError extends GhostError {
  readonly code = 'VM_BACKEND_UNAVAILABLE';
}
export class VmStartError extends GhostError {
  readonly code = 'VM_START_FAILED';
}
/** The VMM process went away while we were using it (crash, OOM kill, someone killed it). */
export class VmExitedError extends GhostError {
  readonly code = 'VM_EXITED';
}
export class VmStopError extends GhostError {
  readonly code = 'VM_STOP_FAILED';
}
