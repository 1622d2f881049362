/** The profile of the image the agent runs in (shared/image-profile.ts); the Debian image has none. */
import { existsSync, readFileSync } from 'node:fs';
import { IMAGE_PROFILE_FILE, type ImageProfile } from '../shared/image-profile.js';
import { SFTP_SERVER_BIN } from './paths.js';

const DEBIAN: ImageProfile = {
  shell: '/bin/bash',
  env: [],
  uid: 0,
  gid: 0,
  user: 'root',
  home: '/root',
  sftpServer: [SFTP_SERVER_BIN],
};

let loaded: ImageProfile | undefined;

export function imageProfile(): ImageProfile {
  if (loaded) return loaded;
  try {
    loaded = { ...DEBIAN, ...(JSON.parse(readFileSync(IMAGE_PROFILE_FILE, 'utf8')) as Partial<ImageProfile>) };
  } catch {
    loaded = DEBIAN;
  }
  return loaded;
}

/** The working directory, falling back to / when the image's WorkingDir or home does not exist. */
export function startDir(): string {
  const p = imageProfile();
  const dir = p.cwd ?? p.home;
  return existsSync(dir) ? dir : '/';
}

/** uid/gid for spawn(): left out for root, so the Debian image's spawns are as before. */
export function spawnIdentity(): { uid?: number; gid?: number } {
  const p = imageProfile();
  return p.uid === 0 && p.gid === 0 ? {} : { uid: p.uid, gid: p.gid };
}
