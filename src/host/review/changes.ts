/**
 * The change set of a review: the guest's listing against the host's snapshot from copy-in. Computed
 * here from both trees (the guest only lists), so a guest cannot make the host believe in a change the
 * two trees do not show. A deleted file whose exact content reappears under one new name is a rename.
 */
import { byPath, sameContent, type Tree, type TreeEntry } from './entry.js';

export type ChangeKind = 'added' | 'modified' | 'deleted' | 'renamed' | 'mode';

export interface Change {
  kind: ChangeKind;
  /** The path the change writes (for a rename: the new name). */
  path: string;
  /** A rename's old name. */
  from?: string;
  /** The snapshot's entry at `path` (at `from` for a rename), if any. */
  old?: TreeEntry;
  /** The guest's entry at `path`, if any. */
  new?: TreeEntry;
}

export function computeChanges(snapshot: Tree, guest: Tree): Change[] {
  const out: Change[] = [];
  for (const path of new Set([...snapshot.keys(), ...guest.keys()])) {
    const o = snapshot.get(path);
    const n = guest.get(path);
    // A device node, FIFO or socket is never applied: it neither adds nor removes anything here.
    if (n?.type === 'other') continue;
    if (o && n) {
      if (!sameContent(o, n)) out.push({ kind: 'modified', path, old: o, new: n });
      else if (o.mode !== n.mode && o.type !== 'symlink') out.push({ kind: 'mode', path, old: o, new: n });
    } else if (n) out.push({ kind: 'added', path, new: n });
    else if (o) out.push({ kind: 'deleted', path, old: o });
  }
  return detectRenames(out).sort((a, b) => byPath(a.path, b.path));
}

function detectRenames(changes: Change[]): Change[] {
  const added = new Map<string, Change[]>();
  for (const c of changes)
    if (c.kind === 'added' && c.new?.type === 'file' && c.new.size > 0 && c.new.sha256)
      added.set(c.new.sha256, [...(added.get(c.new.sha256) ?? []), c]);
  const gone = new Set<Change>();
  const renamed: Change[] = [];
  for (const c of changes) {
    if (c.kind !== 'deleted' || c.old?.type !== 'file' || !c.old.sha256) continue;
    const candidates = added.get(c.old.sha256);
    // Only an unambiguous one: the same content under two new names is two additions and a deletion.
    if (candidates?.length !== 1) continue;
    const to = candidates[0] as Change;
    added.delete(c.old.sha256);
    gone.add(c).add(to);
    renamed.push({ kind: 'renamed', path: to.path, from: c.path, old: c.old, ...(to.new ? { new: to.new } : {}) });
  }
  return [...changes.filter((c) => !gone.has(c)), ...renamed];
}

const octal = (m: number): string => m.toString(8).padStart(3, '0');

/** A change's one-line summary: `A path`, `R old → new`, `m path (644 → 755)`, … (not yet escaped). */
export function changeLine(c: Change): { mark: string; text: string } {
  const suffix = c.new?.type === 'dir' || (c.kind === 'deleted' && c.old?.type === 'dir') ? '/' : '';
  switch (c.kind) {
    case 'added':
      return { mark: 'A', text: `${c.path}${suffix}${c.new?.type === 'symlink' ? ` -> ${c.new.target ?? ''}` : ''}` };
    case 'deleted':
      return { mark: 'D', text: `${c.path}${suffix}` };
    case 'renamed':
      return { mark: 'R', text: `${c.from ?? ''} → ${c.path}` };
    case 'mode':
      return { mark: 'm', text: `${c.path}${suffix} (mode ${octal(c.old?.mode ?? 0)} → ${octal(c.new?.mode ?? 0)})` };
    case 'modified': {
      const typeChange = c.old?.type !== c.new?.type ? ` (${c.old?.type ?? ''} → ${c.new?.type ?? ''})` : '';
      const mode =
        c.old && c.new && c.old.mode !== c.new.mode && c.new.type !== 'symlink'
          ? ` (mode ${octal(c.old.mode)} → ${octal(c.new.mode)})`
          : '';
      return { mark: 'M', text: `${c.path}${typeChange}${mode}` };
    }
  }
}

/** Directories added or deleted come along with their contents: they are not asked about one by one. */
export const isDirBookkeeping = (c: Change): boolean =>
  (c.kind === 'added' && c.new?.type === 'dir') || (c.kind === 'deleted' && c.old?.type === 'dir');
