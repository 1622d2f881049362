/** Where the agent keeps its state inside the guest: a tmpfs, gone with the VM. */
import { GUEST_SOCKET_DIR } from '../shared/ports.js';

export const STATE_DIR = GUEST_SOCKET_DIR;
export const HOST_KEY_FILE = `${STATE_DIR}/host_key`;
export const CLIENT_KEY_FILE = `${STATE_DIR}/authorized_key`;
/** The native helper (guest-native/ghostly-helper.c) installed by the image builder. */
export const HELPER_BIN = '/opt/ghostly/ghostly-helper';
export const SFTP_SERVER_BIN = '/usr/lib/openssh/sftp-server';
