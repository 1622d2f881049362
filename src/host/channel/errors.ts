import { GhostError } from '../../shared/errors.js';

export class ChannelConnectError extends GhostError {
  readonly code = 'CHANNEL_CONNECT_FAILED';
}
