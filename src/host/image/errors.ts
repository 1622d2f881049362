import { GhostError } from '../../shared/errors.js';

export class ImageToolMissingError extends GhostError {
  readonly code = 'IMAGE_TOOL_MISSING';
}
export class ImageAptError extends GhostError {
  readonly code = 'IMAGE_APT_FAILED';
}
/** A name in image.packages / --package that apt's lists do not have. */
export class ImagePackageUnknownError extends GhostError {
  readonly code = 'IMAGE_PACKAGE_UNKNOWN';
}
export class ImageBuildError extends GhostError {
  readonly code = 'IMAGE_BUILD_FAILED';
}
export class ImageNotFoundError extends GhostError {
  readonly code = 'IMAGE_NOT_FOUND';
}
/** An image asked for by id is in the cache but does not match its manifest (it is not rebuilt silently). */
export class ImageDamagedError extends GhostError {
  readonly code = 'IMAGE_DAMAGED';
}
/** An OCI layout, `docker save` archive or registry reference given as the image that cannot be used. */
export class ImageSourceError extends GhostError {
  readonly code = 'IMAGE_SOURCE_INVALID';
}
