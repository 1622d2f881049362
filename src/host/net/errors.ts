import { GhostError } from '../../shared/errors.js';

/** The guest network cannot be set up here (the NAT's binary is missing, or the backend has none). */
export class NetUnavailableError extends GhostError {
  readonly code = 'NET_UNAVAILABLE';
}

/** The NAT process did not come up (it exited, or its socket never listened). */
export class NetStartError extends GhostError {
  readonly code = 'NET_START_FAILED';
}
