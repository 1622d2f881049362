import { GhostError } from '../../shared/errors.js';

/** A TUI setting (prefix key, status position…) that cannot be used; the message names the remedy. */
export class TuiConfigError extends GhostError {
  readonly code = 'TUI_CONFIG_INVALID';
}
