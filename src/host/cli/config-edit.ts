/**
 * `virtualghost config edit`: the user's editor on a copy of the config file in the same directory; the
 * copy replaces the file (atomic rename) only once the real loader accepts it. Nothing the user typed is
 * lost: a rejected copy is either edited again (on a terminal), or kept under a fixed, named path that the
 * next `config edit` reopens. Apart from that named copy, nothing is left behind.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { ConfigEditorFailedError, ConfigInvalidError, ConfigUnknownKeyError } from '../config/errors.js';
import { readConfigFile } from '../config/load.js';
import { readConfigText } from '../config/read-file.js';
import { CONFIG_KEYS, type ConfigKey } from '../config/schema.js';
import { ghostPaths } from '../store/paths.js';
import { notice } from './context.js';
import { EXIT_CODES } from './exit-codes.js';

/** The copy being edited. A fixed name (not a pid) so that a kept, rejected edit is found again. */
export const editCopyPath = (file: string): string => join(dirname(file), 'config.edit.toml');

const tomlValue = (key: ConfigKey): string => {
  const d = CONFIG_KEYS[key].default;
  return key === 'memory'
    ? `"${String(d)}M"`
    : typeof d === 'string' || Array.isArray(d)
      ? JSON.stringify(d)
      : String(d);
};

/** What a new config file starts as: every key, commented out, with its default and meaning. */
export function configTemplate(): string {
  const keys = Object.keys(CONFIG_KEYS) as ConfigKey[];
  const out = [
    '# VirtualGhost configuration. Uncomment and change what you need;',
    '# `virtualghost config show` explains every key.',
    '',
  ];
  for (const k of keys.filter((key) => !key.includes('.')))
    out.push(`# ${k} = ${tomlValue(k)}  # ${CONFIG_KEYS[k].help}`);
  let table = '';
  for (const k of keys.filter((key) => key.includes('.'))) {
    const t = k.slice(0, k.lastIndexOf('.'));
    if (t !== table) out.push('', `# [${(table = t)}]`);
    out.push(`# ${k.slice(t.length + 1)} = ${tomlValue(k)}  # ${CONFIG_KEYS[k].help}`);
  }
  return `${out.join('\n')}\n`;
}

/** Runs $VISUAL/$EDITOR (through sh, so `code --wait` works), ignoring Ctrl-C meanwhile: it belongs to the editor. */
async function runEditor(path: string): Promise<void> {
  const editor = process.env['VISUAL'] || process.env['EDITOR'] || 'vi';
  const ignore = (): void => {};
  process.on('SIGINT', ignore);
  process.on('SIGQUIT', ignore);
  try {
    const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      const child = spawn('/bin/sh', ['-c', `${editor} "$1"`, 'sh', path], { stdio: 'inherit' });
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code, signal }));
    });
    if (result.code === 127)
      throw new ConfigEditorFailedError(`editor \`${editor}\` not found; set $VISUAL or $EDITOR to an editor on PATH`);
    if (result.code !== 0)
      throw new ConfigEditorFailedError(
        `editor \`${editor}\` ${result.signal ? `was killed by ${result.signal}` : `exited with status ${result.code}`}`,
      );
  } finally {
    process.removeListener('SIGINT', ignore);
    process.removeListener('SIGQUIT', ignore);
  }
}

/** Asks on the terminal; undefined at end of input (then the copy is kept, as without a terminal). */
async function askReedit(): Promise<'edit' | 'discard' | undefined> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  // Ctrl-C at the prompt (the terminal is raw here, so it arrives as input): keep the copy, as at end of input.
  rl.on('SIGINT', () => rl.close());
  try {
    for (;;) {
      const closed = new Promise<undefined>((r) => rl.once('close', () => r(undefined)));
      const answer = await Promise.race([
        rl.question('virtualghost: (e)dit again or (d)iscard your changes? [e] '),
        closed,
      ]);
      if (answer === undefined) return undefined;
      const a = answer.trim().toLowerCase();
      if (a === '' || a === 'e' || a === 'edit') return 'edit';
      if (a === 'd' || a === 'discard') return 'discard';
    }
  } finally {
    rl.close();
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export async function configEdit(): Promise<number> {
  const file = ghostPaths().configFile;
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const copy = editCopyPath(file);
  const original = readConfigText(file);
  const start = original ?? configTemplate();
  const resumed = existsSync(copy);
  if (resumed) notice(`reopening your earlier edit that was not saved: ${copy} (delete it to start over from ${file})`);
  else writeFileSync(copy, start, { mode: 0o600, flag: 'wx' });
  const interactive = process.stdin.isTTY === true && process.stderr.isTTY === true;
  const keptMessage = `your edit is kept in ${copy}; \`virtualghost config edit\` reopens it (delete it to discard it)`;

  for (;;) {
    try {
      await runEditor(copy);
    } catch (err) {
      if (readText(copy) === start && !resumed) rmSync(copy, { force: true });
      else if (err instanceof ConfigEditorFailedError) err.message += `; ${file} is unchanged and ${keptMessage}`;
      throw err;
    }
    const text = readText(copy);
    if (text === undefined) throw new ConfigEditorFailedError(`the editor removed ${copy}; ${file} is unchanged`);
    if (text === start) {
      rmSync(copy, { force: true });
      process.stdout.write(`no changes; ${file} is unchanged\n`);
      return 0;
    }
    try {
      readConfigFile(copy);
    } catch (err) {
      if (!(err instanceof ConfigInvalidError || err instanceof ConfigUnknownKeyError)) throw err;
      if (!interactive) {
        err.message += `\n${file} is unchanged; ${keptMessage}`;
        throw err;
      }
      process.stderr.write(`virtualghost: error: ${err.message}\n`);
      const choice = await askReedit();
      if (choice === 'edit') continue;
      if (choice === 'discard') {
        rmSync(copy, { force: true });
        process.stderr.write(`virtualghost: changes discarded; ${file} is unchanged\n`);
        return EXIT_CODES.CONFIG.code;
      }
      err.message = `${file} is unchanged; ${keptMessage}`;
      throw err;
    }
    // Someone else (`config set` elsewhere) changed the file meanwhile: do not overwrite their change.
    if (readText(file) !== original)
      throw new ConfigEditorFailedError(
        `${file} changed while you were editing; it was left as it is now and ${keptMessage}`,
      );
    chmodSync(copy, 0o600);
    renameSync(copy, file);
    process.stdout.write(`saved ${file}\n`);
    return 0;
  }
}
