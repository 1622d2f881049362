import { GhostError } from '../../shared/errors.js';

/** `--review` / `--on-exit` values that cannot work (a missing DIR, a relative GUEST_DIR, an unknown answer): exit 65. */
export class ReviewInvalidError extends GhostError {
  readonly code = 'REVIEW_INVALID';
}

/**
 * The review of a throw-away VM's changes could not do what was asked: conflicts with changes made on
 * this machine meanwhile, entries from the guest refused, or the change set could not be fetched or
 * written. The command's own exit status is named in the message.
 */
export class ReviewFailedError extends GhostError {
  readonly code = 'REVIEW_FAILED';
}
