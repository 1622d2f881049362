/**
 * `cp NAME:SRC DEST` against a guest that lies (issue #11): first with OpenSSH's own sftp-server and a
 * guest that swaps symlinks for real files between two copies, then with the guest's sftp-server replaced
 * by test/helpers/guest/hostile-sftp-server.mjs, which sends names that leave DEST, duplicate names,
 * setuid modes and escape sequences. Around DEST sit a sentinel dir and a planted host file and dir that
 * no copy may touch. `cp` runs under umask 027, so every mode that arrives must fit in 0750.
 * One named VM for the file.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  lstatSync,
  type Stats,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, runCli } from '../helpers/cli.js';
import { startNamedVm, type NamedVm } from '../helpers/named-vm.js';
import { runTool, said, type ToolResult } from '../helpers/run-tool.js';

const NAME = `hsftp-${randomBytes(2).toString('hex')}`;
const base = mkdtempSync(join(tmpdir(), 'vg-hostile-sftp-'));
const ESC_TITLE = '\x1b]0;pwned\x07\x1b[2J';
const UMASK = 0o027;

/**
 * One test's ground: DEST (empty), and beside it a sentinel dir and a host file and dir that no copy may
 * touch. Each test plants its own, so a test fails (on old code) for what it does itself.
 */
interface Ground {
  dest: string;
  sentinel: string;
  file: string;
  dir: string;
  /** Everything outside DEST a copy could reach: must equal the first snapshot after every copy. */
  state(): unknown;
}
function plant(tag: string): Ground {
  const root = join(base, tag);
  const g = {
    dest: join(root, 'dest'),
    sentinel: join(root, 'sentinel'),
    file: join(root, 'planted', 'file'),
    dir: join(root, 'planted', 'dir'),
  };
  for (const d of [g.dest, g.sentinel, g.dir]) mkdirSync(d, { recursive: true });
  writeFileSync(g.file, 'host secret\n');
  chmodSync(g.file, 0o640);
  chmodSync(g.dir, 0o750);
  utimesSync(g.file, 1_500_000_000, 1_500_000_000);
  utimesSync(g.dir, 1_500_000_000, 1_500_000_000);
  const state = (): unknown => {
    const f = statSync(g.file);
    const d = statSync(g.dir);
    return {
      content: readFileSync(g.file, 'utf8'),
      fileMode: f.mode,
      fileMtime: f.mtimeMs,
      dirMode: d.mode,
      dirMtime: d.mtimeMs,
      inDir: readdirSync(g.dir),
      inSentinel: readdirSync(g.sentinel),
      besideDest: readdirSync(root).sort(),
    };
  };
  return { ...g, state };
}

const exec = (script: string, stdin?: string | Buffer): Promise<ToolResult> =>
  runCli(['exec', NAME, '--', 'sh', '-c', script], stdin !== undefined ? { stdin } : {});
const cp = (src: string, dst: string): Promise<ToolResult> =>
  runTool('sh', ['-c', `umask ${UMASK.toString(8)} && exec "$@"`, 'sh', process.execPath, BIN, 'cp', src, dst], {
    timeoutMs: 110_000,
  });

/** Every entry under `root` (not following links): relative path → lstat. */
function walk(root: string, rel = ''): Array<[string, Stats]> {
  const st = lstatSync(join(root, rel));
  const here: Array<[string, Stats]> = [[rel, st]];
  if (!st.isDirectory()) return here;
  return here.concat(...readdirSync(join(root, rel)).map((n) => walk(root, rel ? join(rel, n) : n)));
}

/** No setuid, setgid or sticky bit, nothing the umask removes, on anything under `root` but a symlink. */
function expectSafeModes(root: string): void {
  for (const [rel, st] of walk(root)) {
    if (rel === '' || st.isSymbolicLink()) continue;
    expect({ rel, mode: (st.mode & 0o7777).toString(8) }).toEqual({
      rel,
      mode: (st.mode & 0o777 & ~UMASK).toString(8),
    });
  }
}

const expectNoRawControl = (r: ToolResult): void => {
  // eslint-disable-next-line no-control-regex
  expect(r.stderr, 'raw ESC or BEL on the terminal').not.toMatch(/[\x07\x1b\x9b]/);
};

let vm: NamedVm | undefined;

beforeAll(async () => {
  vm = await startNamedVm(NAME);
});
afterAll(async () => {
  await vm?.stop();
  rmSync(base, { recursive: true, force: true });
});

describe("with the guest's own OpenSSH sftp-server", () => {
  it('a guest symlink swapped for a real file and directory between two copies: the host file and dir stay as they were', async () => {
    const g = plant('swap');
    const before = g.state();
    const dest = g.dest;
    const made = await exec(
      `mkdir -p /root/sw && cd /root/sw && ln -s ${g.file} f && ln -s ${g.dir} d && echo plain > p`,
    );
    expect(made.code, said(made)).toBe(0);
    const first = await cp(`${NAME}:/root/sw`, dest);
    expect(first.code, said(first)).toBe(0);
    expect(readlinkSync(join(dest, 'sw', 'f'))).toBe(g.file);
    expect(readlinkSync(join(dest, 'sw', 'd'))).toBe(g.dir);

    const swapped = await exec(
      'cd /root/sw && rm f d && printf pwned > f && chmod 4777 f && mkdir d && echo x > d/pwn && chmod 4777 d/pwn && chmod 1777 d',
    );
    expect(swapped.code, said(swapped)).toBe(0);
    const second = await cp(`${NAME}:/root/sw`, dest);
    expect(second.code, said(second)).toBe(0);
    expect(g.state()).toEqual(before);
    // The links were replaced by what the guest has now, inside DEST.
    expect(lstatSync(join(dest, 'sw', 'f')).isFile()).toBe(true);
    expect(readFileSync(join(dest, 'sw', 'f'), 'utf8')).toBe('pwned');
    expect(lstatSync(join(dest, 'sw', 'd')).isDirectory()).toBe(true);
    expect(readdirSync(join(dest, 'sw', 'd'))).toEqual(['pwn']);
    expectSafeModes(dest);

    // DEST itself naming a link (here one of ours, pointing at the planted file): the link is replaced.
    const top = join(dest, 'toplink');
    symlinkSync(g.file, top);
    const third = await cp(`${NAME}:/root/sw/f`, top);
    expect(third.code, said(third)).toBe(0);
    expect(lstatSync(top).isFile()).toBe(true);
    expect(readFileSync(top, 'utf8')).toBe('pwned');
    expect(g.state()).toEqual(before);
  });

  it('/proc/self/status arrives whole: read to EOF, not to the size of 0 that stat gives', async () => {
    const dst = join(base, 'status');
    const r = await cp(`${NAME}:/proc/self/status`, dst);
    expect(r.code, said(r)).toBe(0);
    const text = readFileSync(dst, 'utf8');
    expect(text).toMatch(/^Name:\t\S+\n/);
    expect(text).toMatch(/\nPid:\t\d+\n/);
    expect(text).toMatch(/\nVmRSS:\s+\d+ kB\n/);
    expect(text.endsWith('\n')).toBe(true);
    rmSync(dst);
  });

  it('a bare SFTP "Failure" is explained: which operation on which path, and why', async () => {
    const prep = await exec(
      'mkdir -p /mnt/small && mount -t tmpfs -o size=64k tmpfs /mnt/small && : > /root/afile && mkdir -p /root/dd/sub',
    );
    expect(prep.code, said(prep)).toBe(0);
    const big = join(base, 'big.bin');
    writeFileSync(big, randomBytes(1024 * 1024));
    const full = await cp(big, `${NAME}:/mnt/small/big.bin`);
    expect(full.code, said(full)).toBe(74);
    expect(full.stderr).toContain(`cannot write file ${NAME}:/mnt/small/big.bin: the guest's disk is full`);

    const tree = join(base, 'tree');
    mkdirSync(join(tree, 'sub'), { recursive: true });
    const dirOntoFile = await cp(tree, `${NAME}:/root/afile`);
    expect(dirOntoFile.code, said(dirOntoFile)).toBe(74);
    expect(dirOntoFile.stderr).toContain(
      `cannot create directory ${NAME}:/root/afile: a file of that name is in the way in the guest`,
    );

    const hostFile = join(base, 'hostfile');
    writeFileSync(hostFile, 'mine');
    const down = await cp(`${NAME}:/root/dd`, hostFile);
    expect(down.code, said(down)).toBe(74);
    expect(down.stderr).toContain(`cannot create directory ${hostFile}: a file of that name is in the way`);
    expect(readFileSync(hostFile, 'utf8')).toBe('mine');
    for (const p of [big, tree, hostFile]) rmSync(p, { recursive: true });
  });
});

describe('with a hostile sftp-server in the guest', () => {
  const serve = async (spec: { paths: Record<string, unknown> }): Promise<void> => {
    const w = await exec('cat > /root/hostile.json', JSON.stringify(spec));
    expect(w.code, said(w)).toBe(0);
  };

  beforeAll(async () => {
    const server = readFileSync(new URL('../helpers/guest/hostile-sftp-server.mjs', import.meta.url));
    const put = await exec('cat > /root/hostile-sftp.mjs', server);
    expect(put.code, said(put)).toBe(0);
    const swap = await exec(
      "printf '#!/bin/sh\\nexec /usr/local/bin/node /root/hostile-sftp.mjs /root/hostile.json\\n' > /usr/lib/openssh/sftp-server",
    );
    expect(swap.code, said(swap)).toBe(0);
  });

  it('names that leave DEST, repeated names, setuid modes and escape sequences are refused or defused, and cp exits 74', async () => {
    const g = plant('hostile');
    const before = g.state();
    const { dest, sentinel } = g;
    await serve({
      paths: {
        '/h': {
          type: 'dir',
          mode: 0o777,
          list: [
            '../../sentinel/dotdot',
            `${sentinel}/abs`,
            'lnk',
            'lnk/inside',
            { name: 'dup', as: 'symlink' },
            'dup',
            'ok',
            'liar',
            ESC_TITLE,
            `e${ESC_TITLE}/x`,
            { name: `s${ESC_TITLE}`, key: '/sock' },
            'badlink',
            'wide',
            'sticky',
            'zz',
          ],
        },
        // Last in sort order, so that old code meets the names that escape first.
        '/h/zz': {
          type: 'dir',
          mode: 0o755,
          list: [
            { name: 'nul\0x', key: '/h/ok' },
            { name: '', key: '/h/ok' },
            { name: 'a'.repeat(300), key: '/h/ok' },
          ],
        },
        // What posix.join('/h', name) makes of it: the path a client that trusts the name asks for.
        '/sentinel/dotdot': { type: 'file', data: 'escaped via ..' },
        [`/h${sentinel}/abs`]: { type: 'file', data: 'escaped via /' },
        '/h/lnk': { type: 'symlink', target: sentinel },
        '/h/lnk/inside': { type: 'file', data: 'escaped via a link' },
        '/h/dup': { type: 'dir', mode: 0o777, target: g.dir, list: ['owned'] },
        '/h/dup/owned': { type: 'file', mode: 0o4777, data: 'escaped via a repeated name' },
        '/h/ok': { type: 'file', mode: 0o4755, data: 'fine' },
        '/h/liar': { type: 'file', mode: 0o2644, size: 0, data: 'not empty after all' },
        [`/h/${ESC_TITLE}`]: { type: 'file', mode: 0o6777, data: 'odd name, fine' },
        [`/h/e${ESC_TITLE}/x`]: { type: 'file', data: 'x' },
        '/sock': { type: 'socket' },
        '/h/badlink': { type: 'symlink', target: 'a\0b' },
        '/h/wide': { type: 'dir', mode: 0o777, list: ['f'] },
        '/h/wide/f': { type: 'file', mode: 0o7777, data: 'f' },
        '/h/sticky': { type: 'dir', mode: 0o1777, list: [] },
      },
    });
    const r = await cp(`${NAME}:/h`, dest);
    expect(g.state()).toEqual(before);
    expect(r.code, said(r)).toBe(74);
    expectNoRawControl(r);
    for (const shown of [
      '"../../sentinel/dotdot"',
      `"${sentinel}/abs"`,
      '"lnk/inside"',
      '"dup" in',
      '"e\\x1b]0;pwned\\x07\\x1b[2J/x"',
      '"nul\\x00x"',
      '""',
      `"${'a'.repeat(100)}…" in ${NAME}:/h/zz: a name longer than 255 bytes`,
      `${NAME}:/h/badlink: a symlink target containing a NUL byte`,
    ]) {
      expect(r.stderr).toContain(`refused ${shown}`);
    }
    expect(r.stderr).toContain(`skipped ${NAME}:/h/s\\x1b]0;pwned\\x07\\x1b[2J: not a regular file`);
    expect(r.stderr).toMatch(/refused 9 entries the guest sent/);

    const h = join(dest, 'h');
    expect(readdirSync(h).sort()).toEqual([ESC_TITLE, 'dup', 'liar', 'lnk', 'ok', 'sticky', 'wide', 'zz'].sort());
    expect(readdirSync(join(h, 'zz'))).toEqual([]);
    expect(readlinkSync(join(h, 'lnk'))).toBe(sentinel);
    expect(readlinkSync(join(h, 'dup'))).toBe(g.dir);
    expect(readFileSync(join(h, 'ok'), 'utf8')).toBe('fine');
    expect(readFileSync(join(h, 'liar'), 'utf8')).toBe('not empty after all');
    expect(readFileSync(join(h, ESC_TITLE), 'utf8')).toBe('odd name, fine');
    expect(statSync(join(h, 'ok')).mode & 0o7777).toBe(0o750);
    expect(statSync(join(h, 'sticky')).mode & 0o7777).toBe(0o750);
    expectSafeModes(dest);
  });

  it('within one listing, a name first as a symlink then as a directory, or a name through a link just made, reaches nothing outside DEST', async () => {
    const g = plant('same-listing');
    const before = g.state();
    await serve({
      paths: {
        '/s': { type: 'dir', mode: 0o755, list: [{ name: 'dup', as: 'symlink' }, 'dup', 'lnk', 'lnk/inside'] },
        '/s/dup': { type: 'dir', mode: 0o777, target: g.dir, list: ['owned'] },
        '/s/dup/owned': { type: 'file', mode: 0o4777, data: 'pwned' },
        '/s/lnk': { type: 'symlink', target: g.sentinel },
        '/s/lnk/inside': { type: 'file', data: 'pwned' },
      },
    });
    const r = await cp(`${NAME}:/s`, g.dest);
    expect(g.state()).toEqual(before);
    expect(r.code, said(r)).toBe(74);
    expect(r.stderr).toContain(`refused "dup" in ${NAME}:/s: a name listed twice`);
    expect(r.stderr).toContain(`refused "lnk/inside" in ${NAME}:/s: a name containing "/"`);
    expect(readlinkSync(join(g.dest, 's', 'dup'))).toBe(g.dir);
    expect(readlinkSync(join(g.dest, 's', 'lnk'))).toBe(g.sentinel);
  });

  it('an entry that was a symlink in one copy and a file or directory in the next replaces the link, never writes through it', async () => {
    const g = plant('twice');
    const before = g.state();
    const dest = g.dest;
    await serve({
      paths: {
        '/v': { type: 'dir', mode: 0o755, list: ['vf', 'vd'] },
        '/v/vf': { type: 'symlink', target: g.file },
        '/v/vd': { type: 'symlink', target: g.dir },
      },
    });
    const first = await cp(`${NAME}:/v`, dest);
    expect(first.code, said(first)).toBe(0);
    expect(readlinkSync(join(dest, 'v', 'vf'))).toBe(g.file);

    await serve({
      paths: {
        '/v': { type: 'dir', mode: 0o755, list: ['vd', 'vf'] },
        '/v/vf': { type: 'file', mode: 0o4777, data: 'pwned' },
        '/v/vd': { type: 'dir', mode: 0o1777, list: ['pwn'] },
        '/v/vd/pwn': { type: 'file', mode: 0o4777, data: 'pwned' },
      },
    });
    const second = await cp(`${NAME}:/v`, dest);
    expect(second.code, said(second)).toBe(0);
    expect(g.state()).toEqual(before);
    expect(lstatSync(join(dest, 'v', 'vf')).isFile()).toBe(true);
    expect(lstatSync(join(dest, 'v', 'vd')).isDirectory()).toBe(true);
    expect(readdirSync(join(dest, 'v', 'vd'))).toEqual(['pwn']);
    expectSafeModes(dest);
  });

  it('Ctrl-C in the middle of a download exits 130 and leaves no temp file behind', async () => {
    await serve({ paths: { '/slow': { type: 'file', mode: 0o644, fill: 64 * 1024 * 1024, delayMs: 200 } } });
    const dest = join(base, 'interrupted');
    mkdirSync(dest);
    const child = spawn(process.execPath, [BIN, 'cp', `${NAME}:/slow`, dest], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const t0 = Date.now();
    // A file with data in it (our temp file): the download is under way.
    while (!readdirSync(dest).some((n) => statSync(join(dest, n)).size > 0)) {
      expect(Date.now() - t0, `nothing arrived in ${dest}; cp said: ${stderr}`).toBeLessThan(60_000);
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGINT');
    expect(await exited, stderr).toBe(130);
    expect(readdirSync(dest)).toEqual([]);
  });

  it("the guest's own error text is escaped too, and the error names the operation", async () => {
    await serve({ paths: { '/e': { type: 'file', openError: [3, `${ESC_TITLE}denied`] } } });
    const r = await cp(`${NAME}:/e`, join(base, 'e'));
    expect(r.code, said(r)).toBe(74);
    expectNoRawControl(r);
    expect(r.stderr).toContain(`cannot open ${NAME}:/e: \\x1b]0;pwned\\x07\\x1b[2Jdenied`);
    expect(readdirSync(base)).not.toContain('e');
  });
});
