import { GhostError } from '../../shared/errors.js';

export class ConfigInvalidError extends GhostError {
  readonly code = 'CONFIG_INVALID';
}
export class ConfigUnknownKeyError extends GhostError {
  readonly code = 'CONFIG_UNKNOWN_KEY';
}
