/** Bumped whenever a control frame changes shape; host and agent refuse to talk across versions. */
export const CONTROL_PROTOCOL_VERSION = 2; // 2: session.hostKey and session.template replace newHostKey
export const PRODUCT_VERSION = '0.1.0';
