/** Bumped whenever a control frame changes shape; host and agent refuse to talk across versions. */
export const CONTROL_PROTOCOL_VERSION = 2; // 2: session.hostKey and session.template replace newHostKey
/** A copy of package.json's "version" (0.x semver), kept in step by `npm version` (scripts/sync-version.mjs). */
export const PRODUCT_VERSION = '0.1.0';
