/**
 * `config unset KEY`: removes one key from the config file. The line is cut out of the text so that the
 * user's comments and order survive; when that is not possible (inline tables, multi-line values) the
 * file is rewritten from its parsed form instead. Either way the result is checked by parsing it back.
 */
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { parse as parseToml, TomlError } from 'smol-toml';
import { writeFileAtomic } from '../store/atomic-file.js';
import { ConfigInvalidError } from './errors.js';
import { findKeyLine, unknownKey, writeConfig } from './load.js';
import { isConfigKey } from './schema.js';

type Table = Record<string, unknown>;

const isTable = (x: unknown): x is Table => x !== null && typeof x === 'object' && !Array.isArray(x) && !(x instanceof Date);

/** Deletes `dotted` from a parsed document; true if it was there. */
function deletePath(doc: Table, dotted: string): boolean {
  const parts = dotted.split('.');
  let obj: unknown = doc;
  for (const p of parts.slice(0, -1)) obj = isTable(obj) ? obj[p] : undefined;
  const last = parts[parts.length - 1] as string;
  if (!isTable(obj) || !Object.hasOwn(obj, last)) return false;
  delete obj[last];
  return true;
}

function parseFile(file: string, text: string): Table {
  try {
    return parseToml(text) as Table;
  } catch (err) {
    if (err instanceof TomlError) throw new ConfigInvalidError(`${file}:${err.line}:${err.column}: not valid TOML, so no key can be removed safely; fix it with \`virtualghost config edit\``, { cause: err });
    throw err;
  }
}

/**
 * Removes `key` from `file`. An unknown key is refused with a "did you mean" unless the file holds it
 * (removing a misspelt key is how one repairs a file the loader rejects). Returns false when the key
 * was not set, which is not an error: the value already comes from its default (or env/flags).
 */
export function unsetConfigValue(file: string, key: string): boolean {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new ConfigInvalidError(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
    text = '';
  }
  const expected = parseFile(file, text);
  if (!deletePath(expected, key)) {
    if (!isConfigKey(key)) throw unknownKey(key, 'config unset');
    return false;
  }
  const loc = findKeyLine(text, key);
  if (loc) {
    const lines = text.split('\n');
    lines.splice(loc.line - 1, 1);
    const candidate = lines.join('\n');
    let same = false;
    try {
      same = isDeepStrictEqual(parseToml(candidate), expected);
    } catch {
      /* the value spanned several lines: fall back to rewriting */
    }
    if (same) {
      writeFileAtomic(file, candidate);
      return true;
    }
  }
  writeConfig(file, flattenForWrite(expected));
  return true;
}

/** writeConfig takes dotted keys; nested tables become dotted again. */
function flattenForWrite(doc: Table, prefix = ''): Table {
  const out: Table = {};
  for (const [k, val] of Object.entries(doc)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (isTable(val) && Object.keys(val).length > 0) Object.assign(out, flattenForWrite(val, key));
    else if (!isTable(val)) out[key] = val;
  }
  return out;
}
