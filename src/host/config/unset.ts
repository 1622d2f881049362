/**
 * `config unset KEY`: removes one key from the config file. The line is cut out of the text so that the
 * user's comments and order survive (text-edit.ts checks the result and falls back to a rewrite).
 */
import { parse as parseToml, TomlError } from 'smol-toml';
import { ConfigInvalidError } from './errors.js';
import { unknownKey } from './load.js';
import { findKeyLine } from './toml-file.js';
import { isTable, writeChecked, type Table } from './text-edit.js';
import { isConfigKey } from './schema.js';
import { readConfigText } from './read-file.js';

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
    if (err instanceof TomlError)
      throw new ConfigInvalidError(
        `${file}:${err.line}:${err.column}: not valid TOML, so no key can be removed safely; fix it with \`virtualghost config edit\``,
        { cause: err },
      );
    throw err;
  }
}

/**
 * Removes `key` from `file`. An unknown key is refused with a "did you mean" unless the file holds it
 * (removing a misspelt key is how one repairs a file the loader rejects). Returns false when the key
 * was not set, which is not an error: the value already comes from its default (or env/flags).
 */
export function unsetConfigValue(file: string, key: string): boolean {
  const text = readConfigText(file) ?? '';
  const expected = parseFile(file, text);
  if (!deletePath(expected, key)) {
    if (!isConfigKey(key)) throw unknownKey(key, 'config unset');
    return false;
  }
  const loc = findKeyLine(text, key);
  const lines = text.split('\n');
  if (loc) lines.splice(loc.line - 1, 1);
  writeChecked(file, lines.join('\n'), expected);
  return true;
}
