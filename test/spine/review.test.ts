/**
 * `exec --review DIR` (issue #15 §2) with real VMs, two for the file: a scripted change set (add, modify,
 * delete, chmod, symlink, rename, binary, setuid, a device node) made in the guest's /work
 *  1. applied with `--on-exit apply` while three host files are changed meanwhile: the exact tree on
 *     disk, the three conflicts left as the host has them, exit 78 naming the command's own status;
 *  2. written with `--on-exit patch:FILE`: `git apply` of it on a pristine copy gives the same tree as
 *     (1) (conflicted paths aside), and the command's own status is the exit status.
 * And bad `--review` / `--on-exit` values exit 65 before any VM boots.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, runCli } from '../helpers/cli.js';
import { runTool, said, type ToolResult } from '../helpers/run-tool.js';

const base = mkdtempSync(join(tmpdir(), 'vg-review-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

const BINARY = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

/** The host tree the VM starts from. */
function seed(dir: string): void {
  mkdirSync(join(dir, 'gone', 'deep'), { recursive: true });
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'a.txt'), 'one\ntwo\n');
  writeFileSync(join(dir, 'b.bin'), Buffer.from([0, 1, 2, 3]));
  writeFileSync(join(dir, 'del.txt'), 'delete me\n');
  writeFileSync(join(dir, 'old.txt'), 'renamed content\n');
  writeFileSync(join(dir, 'script.sh'), '#!/bin/sh\necho hi\n');
  writeFileSync(join(dir, 'gone', 'deep', 'f'), 'f\n');
  writeFileSync(join(dir, 'src', 'keep.c'), 'int main(void) { return 0; }\n');
  for (const f of ['c-mod.txt', 'c-del.txt']) writeFileSync(join(dir, f), 'base\n');
  for (const f of ['a.txt', 'b.bin', 'del.txt', 'old.txt', 'script.sh', 'c-mod.txt', 'c-del.txt'])
    chmodSync(join(dir, f), 0o644);
}

/** What the guest does in /work. */
const GUEST_CHANGES = [
  'set -e',
  'umask 022',
  'cd /work',
  'printf three >> a.txt',
  "printf 'new\\n' > new.txt",
  'head -c 256 /root/bin256 > new.bin',
  'printf "\\377\\376" >> b.bin',
  'rm del.txt',
  'chmod 755 script.sh',
  'ln -s a.txt lnk',
  'ln -s /etc/passwd out',
  'mkdir moved && mv old.txt moved/old.txt',
  "printf '#!/bin/sh\\n' > suid.sh && chmod 4755 suid.sh",
  'mknod dev c 1 3',
  'rm -r gone',
  'mkdir -p empty',
  "printf 'guest\\n' > c-mod.txt",
  "printf 'guest\\n' > c-add.txt",
  'rm c-del.txt',
].join('\n');

type Shape = Record<string, string>;
/** Every entry under `root` (links not followed): type, mode and content or link text. */
function shape(root: string, rel = ''): Shape {
  const out: Shape = {};
  for (const name of readdirSync(join(root, rel)).sort()) {
    const p = rel ? `${rel}/${name}` : name;
    const st = lstatSync(join(root, p));
    const mode = (st.mode & 0o7777).toString(8);
    if (st.isSymbolicLink()) out[p] = `link -> ${readlinkSync(join(root, p))}`;
    else if (st.isDirectory()) {
      out[p] = `dir ${mode}`;
      Object.assign(out, shape(root, p));
    } else if (st.isFile()) out[p] = `file ${mode} ${readFileSync(join(root, p)).toString('hex')}`;
    else out[p] = `other ${mode}`;
  }
  return out;
}
const hex = (s: string | Buffer): string => Buffer.from(s).toString('hex');

/** The CLI under umask 022, its stdin a pipe we hold. */
function reviewExec(args: string[]): {
  result: Promise<ToolResult>;
  stdout: () => string;
  write: (s: string) => void;
} {
  const child = spawn('sh', ['-c', 'umask 022 && exec "$@"', 'sh', process.execPath, BIN, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
  const result = new Promise<ToolResult>((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.from(out), stderr: err });
    }),
  );
  return { result, stdout: () => out, write: (s) => child.stdin.end(s) };
}

/** /root/bin256: the 256 byte values, made in the guest. */
const setupGuest = `printf '${[...BINARY].map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('')}' > /root/bin256`;

let applied: Shape | undefined;
const CONFLICTS = ['c-mod.txt', 'c-add.txt', 'c-del.txt'];

describe('exec --review', () => {
  it('--on-exit apply: the exact change set lands in DIR, and files changed on the host meanwhile are conflicts left alone (exit 78)', async () => {
    const dir = join(base, 'apply');
    mkdirSync(dir);
    seed(dir);
    const run = reviewExec([
      'exec',
      '-i',
      '--review',
      dir,
      '--on-exit',
      'apply',
      '--',
      'sh',
      '-c',
      `${setupGuest}\n${GUEST_CHANGES}\necho ready\nread x\nexit 3`,
    ]);
    const t0 = Date.now();
    while (!run.stdout().includes('ready')) {
      expect(Date.now() - t0, 'the guest never said ready').toBeLessThan(120_000);
      await new Promise((r) => setTimeout(r, 100));
    }
    // The host tree was not touched while the VM ran.
    const before = shape(dir);
    const pristine = join(base, 'seed');
    mkdirSync(pristine);
    seed(pristine);
    expect(before).toEqual(shape(pristine));
    writeFileSync(join(dir, 'c-mod.txt'), 'host\n');
    writeFileSync(join(dir, 'c-add.txt'), 'host\n');
    writeFileSync(join(dir, 'c-del.txt'), 'host\n');
    run.write('\n');
    const r = await run.result;
    expect(r.code, said(r)).toBe(78);
    expect(r.stderr).toContain('the command itself exited 3');
    for (const c of CONFLICTS)
      expect(r.stderr).toMatch(
        new RegExp(`not applied: ${c.replace('.', '\\.')}: conflict: it was changed on this machine`),
      );
    expect(r.stderr).toContain('"dev": a device node, FIFO or socket, never applied');
    expect(r.stderr).toContain('"suid.sh": its setuid/setgid bits');

    const got = shape(dir);
    expect(got).toEqual({
      'a.txt': `file 644 ${hex('one\ntwo\nthree')}`,
      'b.bin': `file 644 ${hex(Buffer.from([0, 1, 2, 3, 0xff, 0xfe]))}`,
      'c-add.txt': `file 644 ${hex('host\n')}`,
      'c-del.txt': `file 644 ${hex('host\n')}`,
      'c-mod.txt': `file 644 ${hex('host\n')}`,
      empty: 'dir 755',
      lnk: 'link -> a.txt',
      moved: 'dir 755',
      'moved/old.txt': `file 644 ${hex('renamed content\n')}`,
      'new.bin': `file 644 ${BINARY.toString('hex')}`,
      'new.txt': `file 644 ${hex('new\n')}`,
      out: 'link -> /etc/passwd',
      'script.sh': `file 755 ${hex('#!/bin/sh\necho hi\n')}`,
      src: 'dir 755',
      'src/keep.c': `file 644 ${hex('int main(void) { return 0; }\n')}`,
      'suid.sh': `file 755 ${hex('#!/bin/sh\n')}`,
    });
    applied = got;
    // Nothing left beside DIR (temp files) and nothing in DIR but the tree above.
    expect(readdirSync(base).sort()).toEqual(['apply', 'seed']);
  });

  it('--on-exit patch:FILE: git apply of the patch on a pristine copy gives what --on-exit apply gave; the exit status is the command’s', async () => {
    expect(applied, 'needs the apply test').toBeDefined();
    const dir = join(base, 'patch');
    mkdirSync(dir);
    seed(dir);
    const patch = join(base, 'changes.patch');
    const run = reviewExec([
      'exec',
      '--review',
      dir,
      '--on-exit',
      `patch:${patch}`,
      '--',
      'sh',
      '-c',
      `${setupGuest}\n${GUEST_CHANGES}\nexit 5`,
    ]);
    run.write('');
    const r = await run.result;
    expect(r.code, said(r)).toBe(5);
    expect(r.stderr).toContain(`as a patch to ${patch}`);
    expect(r.stderr).toContain('not in the patch: empty directory empty');
    const text = readFileSync(patch, 'utf8');
    expect(text).toContain('GIT binary patch');
    expect(text).toContain('new file mode 120000');
    expect(text).toMatch(/old mode 100644\nnew mode 100755/);
    expect(text).toContain('rename from old.txt\nrename to moved/old.txt');
    // The host tree is as it was: a patch writes nothing into DIR.
    const pristine = join(base, 'pristine');
    mkdirSync(pristine);
    seed(pristine);
    expect(shape(dir)).toEqual(shape(pristine));

    const g = spawnSync('sh', ['-c', 'umask 022 && git apply "$1"', 'sh', patch], { cwd: pristine, encoding: 'utf8' });
    expect(g.status, g.stderr).toBe(0);
    const patched = shape(pristine);
    const want = { ...applied };
    for (const c of CONFLICTS) delete want[c];
    delete want['empty'];
    for (const c of CONFLICTS) delete patched[c];
    expect(patched).toEqual(want);
  });

  it('bad --review and --on-exit values exit 65 naming the value, before any VM boots', async () => {
    const file = join(base, 'a-file');
    writeFileSync(file, '');
    const cases: Array<[string[], string]> = [
      [['--review', join(base, 'missing')], 'does not exist'],
      [['--review', file], 'is a file, not a directory'],
      [['--review', `${base}:relative`], 'does not exist'],
      [['--review', `${base}:/proc/x`], 'under /proc, /sys or /dev'],
      [['--review', base, '--on-exit', 'maybe'], 'expected one of ask, apply, discard, patch:FILE'],
      [['--review', base, '--on-exit', `patch:${join(base, 'no', 'p')}`], 'does not exist'],
      [['--on-exit', 'apply'], '--on-exit needs --review DIR'],
    ];
    for (const [flags, msg] of cases) {
      const t0 = Date.now();
      const r = await runCli(['exec', ...flags, '--', 'true'], { timeoutMs: 20_000 });
      expect(r.code, `${flags.join(' ')}: ${said(r)}`).toBe(65);
      expect(r.stderr).toContain(msg);
      expect(Date.now() - t0).toBeLessThan(5_000);
    }
    const named = await runTool(process.execPath, [BIN, 'run', 'somevm', '--review', base], { timeoutMs: 20_000 });
    expect(named.code, said(named)).toBe(64);
    rmSync(file);
  });
});
