import { GhostError } from '../../shared/errors.js';

/** A command line that parses but does not make sense (e.g. `cp` with no remote side). */
export class CliUsageError extends GhostError {
  readonly code = 'USAGE';
}
