/** The environment of every process the agent starts for the user: a login shell of the image's user. */
import { imageProfile } from './image-profile.js';

export function loginEnv(extra: Record<string, string>, term?: string): Record<string, string> {
  const profile = imageProfile();
  const fromImage: Record<string, string> = {};
  for (const kv of profile.env) {
    const eq = kv.indexOf('=');
    if (eq > 0) fromImage[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return {
    HOME: profile.home,
    USER: profile.user,
    LOGNAME: profile.user,
    SHELL: profile.shell,
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    LANG: 'C.UTF-8',
    ...fromImage,
    ...extra,
    ...(term !== undefined ? { TERM: term } : {}),
  };
}
