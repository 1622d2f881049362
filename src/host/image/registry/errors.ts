/** What can go wrong talking to an image registry; each message names the reference, registry or digest. */
import { GhostError } from '../../../shared/errors.js';

/** A reference that is not `[registry/]name[:tag][@digest]`, or a credential setting we cannot use. */
export class RegistryReferenceInvalidError extends GhostError {
  readonly code = 'REGISTRY_REFERENCE_INVALID';
}
/** The registry has no such repository, tag or digest (404, MANIFEST_UNKNOWN, NAME_UNKNOWN, BLOB_UNKNOWN). */
export class RegistryNotFoundError extends GhostError {
  readonly code = 'REGISTRY_NOT_FOUND';
}
/** An image index that lists no linux/amd64 image. */
export class RegistryNoPlatformError extends GhostError {
  readonly code = 'REGISTRY_NO_PLATFORM';
}
/** The registry could not be reached (DNS, refused, reset, timed out, TLS). */
export class RegistryUnreachableError extends GhostError {
  readonly code = 'REGISTRY_UNREACHABLE';
}
/** 401/403: no credentials, wrong ones, or no access to that repository. */
export class RegistryAuthError extends GhostError {
  readonly code = 'REGISTRY_AUTH_FAILED';
}
/** Content that is not what its digest or size says (a corrupted or tampered blob or manifest). */
export class RegistryDigestMismatchError extends GhostError {
  readonly code = 'REGISTRY_DIGEST_MISMATCH';
}
/** A response that does not follow the distribution spec (bad JSON, unknown media type, wrong status). */
export class RegistryProtocolError extends GhostError {
  readonly code = 'REGISTRY_PROTOCOL';
}
