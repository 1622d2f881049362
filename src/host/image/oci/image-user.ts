/**
 * The image config's User (`name`, `uid`, `name:group`, `uid:gid`) as numbers and a home, looked up in
 * the converted tree's /etc/passwd and /etc/group, as a container runtime does. The files are read
 * through in-root resolution with O_NOFOLLOW: a symlinked /etc/passwd cannot make the host read its own.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImageSourceError } from '../errors.js';
import { entryParts, resolveParent } from './in-root.js';

export interface ImageUser {
  uid: number;
  gid: number;
  user: string;
  home: string;
}

/** A file of the tree, or '' when it is missing, a link or not a regular file. */
export function readInRoot(rootfs: string, path: string): string {
  try {
    const parts = entryParts(path.replace(/^\/+/, ''));
    const fd = openSync(
      join(rootfs, ...resolveParent(rootfs, parts), parts[parts.length - 1] ?? ''),
      constants.O_RDONLY | constants.O_NOFOLLOW,
    );
    try {
      return fstatSync(fd).isFile() ? readFileSync(fd, 'utf8') : '';
    } finally {
      closeSync(fd);
    }
  } catch {
    return '';
  }
}

const rows = (text: string): string[][] =>
  text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(':'));

export function resolveImageUser(rootfs: string, spec: string | undefined, digest: string): ImageUser {
  const passwd = rows(readInRoot(rootfs, '/etc/passwd'));
  const [who = 'root', group] = (spec ?? 'root').split(':', 2);
  const byName = passwd.find((r) => r[0] === who);
  const byUid = /^\d+$/.test(who) ? passwd.find((r) => r[2] === who) : undefined;
  const entry = byName ?? byUid;
  let uid: number;
  if (entry) uid = Number(entry[2]);
  else if (/^\d+$/.test(who)) uid = Number(who);
  else if (who === 'root') uid = 0;
  else
    throw new ImageSourceError(
      `image ${digest}: its config's User ${JSON.stringify(spec)} is not in the image's /etc/passwd`,
    );
  let gid = entry ? Number(entry[3]) : uid === 0 ? 0 : uid;
  if (group !== undefined) {
    if (/^\d+$/.test(group)) gid = Number(group);
    else {
      const g = rows(readInRoot(rootfs, '/etc/group')).find((r) => r[0] === group);
      if (!g)
        throw new ImageSourceError(
          `image ${digest}: its config's User ${JSON.stringify(spec)} names a group the image's /etc/group lacks`,
        );
      gid = Number(g[2]);
    }
  }
  const home = entry?.[5] || (uid === 0 ? '/root' : '/');
  return { uid, gid, user: entry?.[0] ?? (uid === 0 ? 'root' : who), home };
}
