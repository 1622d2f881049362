import { GhostError } from '../shared/errors.js';

export class SessionVmLostError extends GhostError {
  readonly code = 'SESSION_VM_LOST';
}
export class SessionBootError extends GhostError {
  readonly code = 'SESSION_BOOT_FAILED';
}
