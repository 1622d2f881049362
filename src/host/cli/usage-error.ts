import { GhostError } from '../../shared/errors.js';

/** A command line that parses but makes no sense (e.g. an option that needs an argument it lacks). */
export class UsageError extends GhostError {
  readonly code = 'USAGE';
}
