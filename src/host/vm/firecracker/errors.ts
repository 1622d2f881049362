/**
 * Errors of the Firecracker backend. Each class has a stable `code`; messages name the request, path or file
 * at fault and, where we know one, the remedy.
 */
import { GhostError } from '../../../shared/errors.js';

/**
 * Firecracker answered an API request with an error status. `faultMessage` is Firecracker's own
 * `fault_message`, verbatim: it is the most precise description of what went wrong.
 */
export class FirecrackerApiError extends GhostError {
  readonly code = 'FIRECRACKER_API_FAULT';
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly faultMessage: string,
    options?: { cause?: unknown },
  ) {
    super(`Firecracker API ${method} ${path} failed with HTTP ${status}: ${faultMessage}`, options);
  }
}

/** The API socket could not be reached, or the answer was not HTTP/JSON we understand. */
export class FirecrackerApiUnreachableError extends GhostError {
  readonly code = 'FIRECRACKER_API_UNREACHABLE';
}

/**
 * Creating or loading a snapshot failed; the message says which step. `cause` is that step's failure; if
 * resuming the paused VM afterwards failed too, `resumeError` is that (context, never the headline).
 */
export class FirecrackerSnapshotError extends GhostError {
  readonly code = 'FIRECRACKER_SNAPSHOT_FAILED';
  readonly resumeError: unknown;
  constructor(message: string, options?: { cause?: unknown; resumeError?: unknown }) {
    super(message, options);
    this.resumeError = options?.resumeError;
  }
}

/** The jailer options cannot work (bad id, not root, missing binary). */
export class FirecrackerJailerConfigError extends GhostError {
  readonly code = 'FIRECRACKER_JAILER_CONFIG_INVALID';
}
