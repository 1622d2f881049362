import { GhostError } from '../../shared/errors.js';

export class ImageToolMissingError extends GhostError {
  readonly code = 'IMAGE_TOOL_MISSING';
}
export class ImageAptError extends GhostError {
  readonly code = 'IMAGE_APT_FAILED';
}
export class ImageBuildError extends GhostError {
  readonly code = 'IMAGE_BUILD_FAILED';
}
export class ImageNotFoundError extends GhostError {
  readonly code = 'IMAGE_NOT_FOUND';
}
