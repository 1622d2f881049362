/**
 * Reads the config file. No file means the defaults; but a config.toml (or a directory on its path) that is
 * a symbolic link to nothing is a file the user meant to have, whose settings would silently be dropped:
 * that is an error (exit 65), and so is any other reason the file cannot be read.
 */
import { existsSync, lstatSync, readFileSync, readlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigInvalidError } from './errors.js';

/** The file's text, or undefined if neither it nor a link standing for it exists. */
export function readConfigText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new ConfigInvalidError(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
    const link = danglingLinkOn(file);
    if (link) {
      throw new ConfigInvalidError(
        `${link.path} is a symbolic link to ${link.target}, which does not exist, so the settings in ${file} cannot be read: restore its target, or remove the link to use the defaults`,
      );
    }
    return undefined;
  }
}

/** The first symbolic link on the way from `path` up to `/` whose target does not exist. */
function danglingLinkOn(path: string): { path: string; target: string } | undefined {
  for (let p = path; ; p = dirname(p)) {
    try {
      if (lstatSync(p).isSymbolicLink() && !existsSync(p)) return { path: p, target: readlinkSync(p) };
    } catch {
      // not there at all: look further up
    }
    if (dirname(p) === p) return undefined;
  }
}
