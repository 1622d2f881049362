import { GhostError } from '../../shared/errors.js';

/** A path to copy from does not exist (the message says which side: local or NAME:). */
export class TransferSourceMissingError extends GhostError {
  readonly code = 'TRANSFER_SOURCE_MISSING';
}
/** A destination cannot be written (missing parent dir, a file where a dir is needed, permissions). */
export class TransferDestinationError extends GhostError {
  readonly code = 'TRANSFER_DESTINATION_FAILED';
}
