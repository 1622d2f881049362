/**
 * One entry of a workspace tree, as the host's snapshot (taken at copy-in) and the guest's listing (at the
 * end) both describe it. `path` is relative to the workspace root, components joined by `/`.
 */
export type EntryType = 'file' | 'dir' | 'symlink' | 'other';

export interface TreeEntry {
  path: string;
  type: EntryType;
  /** Permission bits only (0o777): setuid, setgid and sticky are never carried. */
  mode: number;
  size: number;
  /** Files: sha256 of the content, hex. */
  sha256?: string;
  /** Files in a host snapshot: the mtime (whole seconds) the copy-in gave the guest's copy. */
  mtime?: number;
  /** Symlinks: the link's text. */
  target?: string;
}

export type Tree = Map<string, TreeEntry>;

/** Same content and type (modes aside). */
export function sameContent(a: TreeEntry, b: TreeEntry): boolean {
  if (a.type !== b.type) return false;
  if (a.type === 'file') return a.sha256 === b.sha256;
  if (a.type === 'symlink') return a.target === b.target;
  return true;
}

/** Parents before children, siblings by name: the order additions are applied in. */
export function byPath(a: string, b: string): number {
  const pa = a.split('/');
  const pb = b.split('/');
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i] as string;
    const y = pb[i] as string;
    if (x !== y) return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}
