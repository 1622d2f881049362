/**
 * `virtualghost config edit` through the real CLI, with scripted editors: a valid edit replaces the file,
 * an invalid one never does and nothing typed is lost (re-edit on a terminal, a named kept copy
 * otherwise), and no temp file is left behind unless it is named.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pty from 'node-pty';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ghostPaths } from '../../src/host/store/paths.js';
import { BIN, runCli } from '../helpers/cli.js';

const EXIT_CONFIG = 65;
const file = ghostPaths().configFile;
const copy = join(dirname(file), 'config.edit.toml');
const scripts = mkdtempSync(join(tmpdir(), 'vg-editor-'));
afterAll(() => rmSync(scripts, { recursive: true, force: true }));
// The XDG dirs are shared by every test file: never leave a config (or a kept edit) behind.
afterEach(() => {
  rmSync(file, { force: true });
  rmSync(copy, { force: true });
});

let n = 0;
/** An "editor": a sh script run as `EDITOR FILE`; returns the env that selects it. */
function editor(body: string): NodeJS.ProcessEnv {
  const script = join(scripts, `ed${n++}.sh`);
  writeFileSync(script, `f="$1"\n${body}\n`);
  return { EDITOR: `sh ${script}`, VISUAL: '' };
}
const writeConfig = (text: string): void => {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
};
const leftovers = (): string[] =>
  existsSync(dirname(file)) ? readdirSync(dirname(file)).filter((f) => f !== 'config.toml') : [];

describe('config edit without a terminal', () => {
  it('a valid edit replaces the file (0600), keeping everything the user wrote; no temp file remains', async () => {
    writeConfig('# mine\nvcpus = 2\n');
    const r = await runCli(['config', 'edit'], {
      env: editor(`printf '[tui]\\nstatus = "top"  # up there\\n' >> "$f"`),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.toString()).toContain(`saved ${file}`);
    expect(readFileSync(file, 'utf8')).toBe('# mine\nvcpus = 2\n[tui]\nstatus = "top"  # up there\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(leftovers()).toEqual([]);
    expect((await runCli(['config', 'get', 'tui.status'])).stdout.toString()).toBe('top\n');
  });

  it('without a config file the editor starts from a commented template of every key', async () => {
    const r = await runCli(['config', 'edit'], {
      env: editor(
        `grep -q '^# vcpus = 1 ' "$f" && grep -q '^# \\[tui\\]' "$f" && sed -i 's/^# vcpus = 1 .*/vcpus = 4/' "$f"`,
      ),
    });
    expect(r.code, r.stderr).toBe(0);
    expect((await runCli(['config', 'get', 'vcpus'])).stdout.toString()).toBe('4\n');
    expect(leftovers()).toEqual([]);
  });

  it('no change: nothing written, no file created, no temp file left', async () => {
    const r = await runCli(['config', 'edit'], { env: editor('true') });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.toString()).toContain('no changes');
    expect(existsSync(file)).toBe(false);
    expect(leftovers()).toEqual([]);
  });

  it('an invalid edit: exit 65 with copy:line:col, the file untouched, the edit kept under a named path that the next `config edit` reopens', async () => {
    writeConfig('vcpus = 2\n');
    const bad = await runCli(['config', 'edit'], { env: editor(`printf 'memory = "1G"\\nvcpus = "two"\\n' > "$f"`) });
    expect(bad.code, bad.stderr).toBe(EXIT_CONFIG);
    expect(bad.stderr).toContain(`${copy}:2:1:`);
    expect(bad.stderr).toMatch(/`vcpus` must be .*"two"/);
    expect(bad.stderr).toContain(`kept in ${copy}`);
    expect(readFileSync(file, 'utf8')).toBe('vcpus = 2\n');
    expect(readFileSync(copy, 'utf8')).toBe('memory = "1G"\nvcpus = "two"\n');

    const fix = await runCli(['config', 'edit'], { env: editor(`sed -i 's/"two"/3/' "$f"`) });
    expect(fix.code, fix.stderr).toBe(0);
    expect(fix.stderr).toContain(`reopening your earlier edit`);
    expect(readFileSync(file, 'utf8')).toBe('memory = "1G"\nvcpus = 3\n');
    expect(leftovers()).toEqual([]);
  });

  it('--quiet drops the "reopening" notice but not the error', async () => {
    writeConfig('vcpus = 2\n');
    await runCli(['config', 'edit'], { env: editor(`echo 'cpus = 1' >> "$f"`) });
    const r = await runCli(['--quiet', 'config', 'edit'], { env: editor('true') });
    expect(r.code).toBe(EXIT_CONFIG);
    expect(r.stderr).not.toContain('reopening');
    expect(r.stderr).toMatch(/unknown key `cpus` — did you mean `vcpus`/);
  });

  it('an editor that fails: untouched copy removed; a changed copy kept and named; exit 65 either way', async () => {
    writeConfig('vcpus = 2\n');
    const quit = await runCli(['config', 'edit'], { env: editor('exit 3') });
    expect(quit.code).toBe(EXIT_CONFIG);
    expect(quit.stderr).toMatch(/exited with status 3/);
    expect(leftovers()).toEqual([]);
    const crash = await runCli(['config', 'edit'], { env: editor(`echo 'memory = "2G"' >> "$f"; exit 1`) });
    expect(crash.code).toBe(EXIT_CONFIG);
    expect(crash.stderr).toContain(`kept in ${copy}`);
    expect(readFileSync(copy, 'utf8')).toBe('vcpus = 2\nmemory = "2G"\n');
    expect(readFileSync(file, 'utf8')).toBe('vcpus = 2\n');
  });

  it('a missing editor is named with the remedy; $VISUAL wins over $EDITOR', async () => {
    const missing = await runCli(['config', 'edit'], { env: { VISUAL: '', EDITOR: '/nonexistent/editor' } });
    expect(missing.code).toBe(EXIT_CONFIG);
    expect(missing.stderr).toMatch(/editor `\/nonexistent\/editor` not found; set \$VISUAL or \$EDITOR/);
    expect(leftovers()).toEqual([]);
    const visual = editor(`echo 'vcpus = 5' >> "$f"`);
    const r = await runCli(['config', 'edit'], { env: { VISUAL: visual['EDITOR'], EDITOR: '/nonexistent/editor' } });
    expect(r.code, r.stderr).toBe(0);
    expect((await runCli(['config', 'get', 'vcpus'])).stdout.toString()).toBe('5\n');
  });
});

/** `config edit` on a real terminal (node-pty); `answer` is typed at the re-edit prompt. */
function editOnTerminal(env: NodeJS.ProcessEnv, answer: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const term = pty.spawn(process.execPath, [BIN, 'config', 'edit'], {
      cols: 200,
      rows: 30,
      env: { ...process.env, ...env } as Record<string, string>,
    });
    let output = '';
    let answered = false;
    term.onData((d) => {
      output += d;
      if (!answered && output.includes('(e)dit again or (d)iscard')) {
        answered = true;
        term.write(`${answer}\r`);
      }
    });
    term.onExit(({ exitCode }) => resolve({ code: exitCode, output }));
  });
}

describe('config edit on a terminal', () => {
  it('an invalid edit is shown and the editor reopens on the same text; the fixed edit is saved', async () => {
    writeConfig('vcpus = 2\n');
    const count = join(scripts, 'count');
    rmSync(count, { force: true });
    // First run: a typo. Second run: sees the typo still there (nothing lost) and fixes it.
    const env = editor(
      `if [ -e ${count} ]; then grep -q '^backend = "qemuu"' "$f" && sed -i 's/qemuu/qemu/' "$f"; else touch ${count}; echo 'backend = "qemuu"' >> "$f"; fi`,
    );
    const r = await editOnTerminal(env, 'e');
    expect(r.code, r.output).toBe(0);
    expect(r.output).toContain(`${copy}:2:1:`);
    expect(r.output).toContain(`saved ${file}`);
    expect(readFileSync(file, 'utf8')).toBe('vcpus = 2\nbackend = "qemu"\n');
    expect(leftovers()).toEqual([]);
  });

  it('discard: exit 65, the file untouched, no copy left', async () => {
    writeConfig('vcpus = 2\n');
    const r = await editOnTerminal(editor(`echo 'vcpus = 0' >> "$f"`), 'd');
    expect(r.code, r.output).toBe(EXIT_CONFIG);
    expect(r.output).toContain('changes discarded');
    expect(readFileSync(file, 'utf8')).toBe('vcpus = 2\n');
    expect(leftovers()).toEqual([]);
  });
});

describe('config edit and a concurrent change', () => {
  it('a file changed during the edit is not overwritten; the edit is kept and named', async () => {
    writeConfig('vcpus = 2\n');
    // The "editor" edits its copy, and meanwhile someone else changes the file itself.
    const r = await runCli(['config', 'edit'], {
      env: editor(`echo 'memory = "2G"' >> "$f"; printf 'vcpus = 3\\n' > '${file}'`),
    });
    expect(r.code).toBe(EXIT_CONFIG);
    expect(r.stderr).toMatch(/changed while you were editing/);
    expect(readFileSync(file, 'utf8')).toBe('vcpus = 3\n');
    expect(readFileSync(copy, 'utf8')).toBe('vcpus = 2\nmemory = "2G"\n');
  });
});
