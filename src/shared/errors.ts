import type { ErrorCode } from './error-codes.js';

/**
 * Base class of every error VirtualGhost raises on purpose. `code` is stable (scripts and the exit-code
 * table key on it); `message` names the file, field or value at fault and what to do about it.
 */
export abstract class GhostError extends Error {
  abstract readonly code: ErrorCode;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A peer sent something that does not follow the control protocol. */
export class ProtocolViolationError extends GhostError {
  readonly code = 'PROTOCOL_VIOLATION';
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
