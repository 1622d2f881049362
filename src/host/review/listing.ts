/**
 * The guest's listing of the workspace, parsed as hostile input. Every path must be a chain of names
 * `refuseGuestName` accepts (so no `..`, no absolute path, no empty component), listed once, under a
 * parent the listing itself says is a directory (so no `link/x` through a link, and no `a` as a symlink
 * and then `a/` as a directory). A refused entry is named in a notice and left out; the caller fails
 * the review when any were refused.
 */
import { refuseGuestName, refuseSymlinkTarget, shownGuestName } from '../transfer/guest-names.js';
import type { EntryType, Tree, TreeEntry } from './entry.js';
import { ReviewFailedError } from './errors.js';

const TYPES: Record<string, EntryType> = { file: 'file', dir: 'dir', symlink: 'symlink', other: 'other' };
const SETID_BITS = 0o6000;

export interface GuestListing {
  tree: Tree;
  refused: string[];
  /** Entries the host never applies, kept for the review screen: device nodes, FIFOs, sockets, setuid bits. */
  notApplied: string[];
}

const isUint = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

function refusePath(path: string): string | undefined {
  for (const part of path.split('/')) {
    const why = refuseGuestName(part);
    if (why !== undefined) return why;
  }
  return undefined;
}

export function parseGuestListing(text: string): GuestListing {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new ReviewFailedError("the guest's listing of the workspace is not JSON (the guest is broken or hostile)");
  }
  const entries = (doc as { entries?: unknown } | null)?.entries;
  if (!Array.isArray(entries))
    throw new ReviewFailedError(
      "the guest's listing of the workspace has no entries list (the guest is broken or hostile)",
    );
  const tree: Tree = new Map();
  const refused: string[] = [];
  const notApplied: string[] = [];
  for (const raw of entries as unknown[]) {
    const r = (raw ?? {}) as Record<string, unknown>;
    const p = typeof r['p'] === 'string' ? r['p'] : undefined;
    const shown = p === undefined ? '(no name)' : `"${shownGuestName(p)}"`;
    const refuse = (why: string): void => void refused.push(`refused ${shown}: ${why}, from the guest`);
    if (p === undefined) {
      refuse('an entry without a name');
      continue;
    }
    const type = typeof r['t'] === 'string' ? TYPES[r['t']] : undefined;
    if (type === undefined || !isUint(r['m']) || !isUint(r['s'])) {
      refuse('an entry without a valid type, mode or size');
      continue;
    }
    const why = refusePath(p);
    if (why !== undefined) {
      refuse(`${why} in its path`);
      continue;
    }
    if (tree.has(p)) {
      refuse('a path listed twice');
      continue;
    }
    const slash = p.lastIndexOf('/');
    if (slash >= 0 && tree.get(p.slice(0, slash))?.type !== 'dir') {
      refuse('its parent is not a directory the guest listed before it');
      continue;
    }
    const e: TreeEntry = { path: p, type, mode: r['m'] & 0o777, size: r['s'] };
    if (type === 'file') {
      if (typeof r['h'] !== 'string' || !/^[0-9a-f]{64}$/.test(r['h'])) {
        refuse('a file without a valid sha256');
        continue;
      }
      e.sha256 = r['h'];
    }
    if (type === 'symlink') {
      const target = typeof r['l'] === 'string' ? r['l'] : '';
      const bad = refuseSymlinkTarget(target);
      if (bad !== undefined) {
        refuse(bad);
        continue;
      }
      e.target = target;
    }
    if (type === 'other') notApplied.push(`"${shownGuestName(p)}": a device node, FIFO or socket, never applied`);
    else if ((r['m'] & SETID_BITS) !== 0)
      notApplied.push(`"${shownGuestName(p)}": its setuid/setgid bits (the rest of it is applied)`);
    tree.set(p, e);
  }
  return { tree, refused, notApplied };
}
