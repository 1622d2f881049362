/**
 * Extra Debian packages for the guest image (`image.packages`, `--package`): what a valid name is, and
 * close matches for a name apt does not know.
 */
import { editDistance, typoDistance } from '../../shared/edit-distance.js';

/**
 * Debian Policy 5.6.1: lower-case letters, digits, `+`, `-` and `.`, at least two characters, starting
 * with a letter or digit. Checked before a name reaches apt-cache or mmdebstrap: it also keeps out
 * option-like (`-o…`), list-splitting (`,`) and version-pinning (`=`, `/`) text.
 */
export const DEBIAN_PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]+$/;

export const PACKAGE_NAME_RULE =
  'a Debian package name: lower-case letters, digits, "+", "-" and ".", at least two characters, starting with a letter or digit';

/** The names that are not valid Debian package names. */
export function invalidPackageNames(names: readonly string[]): string[] {
  return names.filter((n) => !DEBIAN_PACKAGE_NAME.test(n));
}

/** Up to `limit` known names nearest to `name`, nearest first, that are near enough to be what was meant. */
export function closePackageNames(name: string, known: Iterable<string>, limit = 3): string[] {
  const max = typoDistance(name);
  const found: Array<{ n: string; d: number }> = [];
  for (const n of known) {
    if (Math.abs(n.length - name.length) > max) continue; // cheap: most of ~60 000 names end here
    const d = editDistance(name, n);
    if (d <= max) found.push({ n, d });
  }
  // A name that starts like the typo is the likelier meaning among equally near ones (pyton3 → python3).
  const prefix = (n: string): number => (n[0] === name[0] ? 0 : 1);
  return found
    .sort((a, b) => a.d - b.d || prefix(a.n) - prefix(b.n) || a.n.localeCompare(b.n))
    .slice(0, limit)
    .map((f) => f.n);
}
