/**
 * How the agent starts the user's processes. The Debian image uses the defaults; an image converted from
 * OCI gets a profile file written by the converter from the image's config (Env, WorkingDir, User) and
 * from what the image has (bash or only sh), and runs OpenSSH's sftp-server through the injected loader
 * (the image's own libc may be another one, or none).
 */
export const IMAGE_PROFILE_FILE = '/opt/ghostly/image-profile.json';

export interface ImageProfile {
  /** The shell for PTY sessions (`-l`) and commands (`-c`). */
  shell: string;
  /** The image's Env, KEY=VALUE, in order (a later one wins). */
  env: string[];
  /** Where processes start; the user's home when the image names none. */
  cwd?: string;
  uid: number;
  gid: number;
  user: string;
  home: string;
  /** argv before sftp-server's own arguments. */
  sftpServer: string[];
}
