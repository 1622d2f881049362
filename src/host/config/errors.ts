import { GhostError } from '../../shared/errors.js';

export class ConfigInvalidError extends GhostError {
  readonly code = 'CONFIG_INVALID';
}
export class ConfigUnknownKeyError extends GhostError {
  readonly code = 'CONFIG_UNKNOWN_KEY';
}
/** $VISUAL/$EDITOR could not be started or exited with a failure during `config edit`. */
export class ConfigEditorFailedError extends GhostError {
  readonly code = 'CONFIG_EDITOR_FAILED';
}
