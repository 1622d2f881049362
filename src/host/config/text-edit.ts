/**
 * Changes to the config file made on its text, so that `config set` and `config unset` keep the user's
 * comments, order and layout. Every textual edit is checked by parsing the result and comparing it with
 * the intended document; when they differ (inline tables, multi-line values, unusual layouts) the file
 * is rewritten from the document instead, which is always correct but loses comments.
 */
import { isDeepStrictEqual } from 'node:util';
import { parse as parseToml, stringify as stringifyToml } from 'smol-toml';
import { writeFileAtomic } from '../store/atomic-file.js';
import { findKeyLine, writeConfig } from './toml-file.js';

export type Table = Record<string, unknown>;

export const isTable = (x: unknown): x is Table =>
  x !== null && typeof x === 'object' && !Array.isArray(x) && !(x instanceof Date);

const HEADER = /^\s*\[\s*([^\]]+?)\s*\]/;

/** The TOML spelling of one value, e.g. `"1024M"`, `2`, `true`. */
function tomlValue(value: unknown): string {
  return stringifyToml({ v: value }).trim().replace(/^v = /, '');
}

/** The text with `dotted = value` set in place (or added where it belongs); undefined if unsure. */
export function setKeyText(text: string, dotted: string, value: unknown): string {
  const lines = text.split('\n');
  const rendered = tomlValue(value);
  const at = findKeyLine(text, dotted);
  if (at) {
    const line = lines[at.line - 1] ?? '';
    const m = /^(\s*[^=]+?=\s*)(.*?)(\s+#[^"']*)?$/.exec(line);
    lines[at.line - 1] = m ? `${m[1] ?? ''}${rendered}${m[3] ?? ''}` : line;
    return lines.join('\n');
  }
  const dot = dotted.lastIndexOf('.');
  const table = dot < 0 ? '' : dotted.slice(0, dot);
  const leaf = dot < 0 ? dotted : dotted.slice(dot + 1);
  const entry = `${leaf} = ${rendered}`;
  // Where the key's table starts (top level: line 0) and where the next table starts.
  let start = table === '' ? 0 : -1;
  let end = lines.length;
  for (let i = 0; i < lines.length; i++) {
    const h = HEADER.exec(lines[i] ?? '')?.[1]?.replace(/["']/g, '');
    if (h === undefined) continue;
    if (start >= 0 && i >= start) {
      end = i;
      break;
    }
    if (h === table) start = i + 1;
  }
  if (start < 0) {
    const body = text.endsWith('\n') || text === '' ? text : `${text}\n`;
    return `${body}${body.trim() === '' ? '' : '\n'}[${table}]\n${entry}\n`;
  }
  // After the table's last line, but before a comment block that is attached to the next table's header.
  let insert = end;
  if (end < lines.length) while (insert > start && /^\s*#/.test(lines[insert - 1] ?? '')) insert--;
  while (insert > start && /^\s*$/.test(lines[insert - 1] ?? '')) insert--;
  lines.splice(insert, 0, entry);
  return lines.join('\n');
}

/** Writes `candidate` if it parses to `expected`, else the file rewritten from `expected`. */
export function writeChecked(file: string, candidate: string, expected: Table): void {
  let same = false;
  try {
    // Through JSON: the parser's tables and ones we created differ in prototype only.
    same = isDeepStrictEqual(JSON.parse(JSON.stringify(parseToml(candidate))), JSON.parse(JSON.stringify(expected)));
  } catch {
    /* the textual edit broke the syntax: rewrite instead */
  }
  if (same) writeFileAtomic(file, candidate);
  else writeConfig(file, flattenForWrite(expected));
}

/** writeConfig takes dotted keys; nested tables become dotted again (empty ones are dropped). */
function flattenForWrite(doc: Table, prefix = ''): Table {
  const out: Table = {};
  for (const [k, val] of Object.entries(doc)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (isTable(val)) Object.assign(out, flattenForWrite(val, key));
    else out[key] = val;
  }
  return out;
}
