/** Errors of the Firecracker hybrid-vsock connector (see fc-vsock.ts). */
import { GhostError } from '../../shared/errors.js';

/** The peer answered `CONNECT <port>` with something other than `OK <hostport>\n`. Not retried. */
export class VsockHandshakeError extends GhostError {
  readonly code = 'VSOCK_HANDSHAKE_INVALID';
}

/** Nobody accepted the connection before the overall deadline; the message carries the last reason. */
export class VsockConnectTimeoutError extends GhostError {
  readonly code = 'VSOCK_CONNECT_TIMEOUT';
}
