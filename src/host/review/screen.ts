/**
 * What the review shows: the change set's summary (added, modified, deleted, renamed, mode-changed) and
 * each entry's diff, coloured for a terminal, with sizes for binaries. Every name and line is guest text:
 * it is escaped (escapeControl) before any colour of ours is put around it.
 */
import { escapeControl } from '../../shared/escape-control.js';
import { changeLine, type Change } from './changes.js';
import { gitEntryDiff } from './git-diff.js';
import type { Staging } from './staging.js';

const SGR = {
  reset: '\x1b[0m',
  bold: '\x1b[1m',
  red: '\x1b[31m',
  green: '\x1b[32m',
  cyan: '\x1b[36m',
  yellow: '\x1b[33m',
};
const MARK_COLOUR: Record<string, string> = { A: SGR.green, D: SGR.red, M: SGR.yellow, R: SGR.cyan, m: SGR.cyan };

export interface Paint {
  colour: boolean;
}

const paint = (p: Paint, sgr: string, text: string): string => (p.colour ? `${sgr}${text}${SGR.reset}` : text);

/** Tabs as spaces to the next multiple of 8 (escapeControl would show them as \x09), the rest escaped. */
export function shownLine(line: string): string {
  let col = 0;
  const expanded = line.replace(/\t|[^\t]+/g, (m) => {
    if (m !== '\t') {
      col += m.length;
      return m;
    }
    const n = 8 - (col % 8);
    col += n;
    return ' '.repeat(n);
  });
  return escapeControl(expanded);
}

export function summaryLines(changes: readonly Change[], p: Paint): string[] {
  return changes.map((c) => {
    const { mark, text } = changeLine(c);
    return `  ${paint(p, MARK_COLOUR[mark] ?? '', mark)} ${escapeControl(text)}`;
  });
}

export function countsLine(changes: readonly Change[]): string {
  const n = (k: Change['kind']): number => changes.filter((c) => c.kind === k).length;
  return `${n('added')} added, ${n('modified')} modified, ${n('deleted')} deleted, ${n('renamed')} renamed, ${n('mode')} mode changed`;
}

function sizeOf(n: number): string {
  return n < 10_000 ? `${n} bytes` : n < 10_000_000 ? `${(n / 1000).toFixed(1)} kB` : `${(n / 1e6).toFixed(1)} MB`;
}

/** One change's diff, ready to print: coloured +/- lines, or a size line for a binary. */
export function changeDiff(c: Change, staging: Staging, p: Paint): string[] {
  const refused = staging.refused.get(c);
  if (refused !== undefined) return [paint(p, SGR.red, escapeControl(refused))];
  const text = gitEntryDiff(staging, c.old ? (c.from ?? c.path) : undefined, c.new ? c.path : undefined);
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    if (raw === '' && out.length && text.endsWith('\n')) continue;
    if (/^Binary files .* differ$/.test(raw)) {
      const from = c.old?.type === 'file' ? sizeOf(c.old.size) : 'nothing';
      const to = c.new?.type === 'file' ? sizeOf(c.new.size) : 'nothing';
      out.push(paint(p, SGR.cyan, `binary: ${from} → ${to}`));
      continue;
    }
    const line = shownLine(raw);
    if (/^(diff --git|index |--- |\+\+\+ |old mode|new mode|new file|deleted file|similarity|rename )/.test(raw))
      out.push(paint(p, SGR.bold, line));
    else if (raw.startsWith('@@')) out.push(paint(p, SGR.cyan, line));
    else if (raw.startsWith('+')) out.push(paint(p, SGR.green, line));
    else if (raw.startsWith('-')) out.push(paint(p, SGR.red, line));
    else out.push(line);
  }
  if (!out.length) out.push(escapeControl(`${changeLine(c).mark} ${changeLine(c).text}`));
  return out;
}
