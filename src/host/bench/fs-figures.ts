/**
 * File-system figures inside the guest (issue #15 §3): write and read MB/s of one file and metadata
 * speed (create + stat + unlink of 2,000 small files) in a guest dir, measured by the guest's own Node
 * (no fork per file, so the figure is the file system's, not the shell's). Run on a mount, on the VM's
 * own disk and, as the baseline, as a copy in over SFTP (what a mount replaces).
 */
import type ssh2 from 'ssh2';
import { runGuestCommand } from '../cli/exec.js';
import { shellQuote } from '../shell-quote.js';
import { Writable } from 'node:stream';

export interface FsFigures {
  writeMBps: number;
  readMBps: number;
  /** Files per second through create + stat + unlink (three metadata operations each). */
  metaFilesPerSec: number;
}

export const FS_BENCH_MB = 32;
export const FS_BENCH_FILES = 2000;

/** The guest side: prints one JSON line. Caches are dropped before the read, so it reads the device. */
export const FS_BENCH_GUEST_SCRIPT = `
const fs = require('fs'), dir = process.argv[1], mb = ${FS_BENCH_MB}, n = ${FS_BENCH_FILES};
const now = () => Number(process.hrtime.bigint()) / 1e9;
const big = dir + '/vg-bench-big', chunk = Buffer.alloc(1 << 20, 7);
let t = now(); let fd = fs.openSync(big, 'w');
for (let i = 0; i < mb; i++) fs.writeSync(fd, chunk);
fs.fsyncSync(fd); fs.closeSync(fd); const write = mb / (now() - t);
fs.writeFileSync('/proc/sys/vm/drop_caches', '3');
t = now(); fd = fs.openSync(big, 'r'); while (fs.readSync(fd, chunk) > 0); fs.closeSync(fd);
const read = mb / (now() - t); fs.unlinkSync(big);
const m = dir + '/vg-bench-meta'; fs.mkdirSync(m);
t = now();
for (let i = 0; i < n; i++) fs.writeFileSync(m + '/' + i, 'x');
for (let i = 0; i < n; i++) fs.statSync(m + '/' + i);
for (let i = 0; i < n; i++) fs.unlinkSync(m + '/' + i);
const meta = n / (now() - t); fs.rmdirSync(m);
console.log(JSON.stringify({ writeMBps: write * 1.048576, readMBps: read * 1.048576, metaFilesPerSec: meta }));
`;

export async function guestFsFigures(ssh: ssh2.Client, dir: string): Promise<FsFigures> {
  let out = '';
  let err = '';
  const sink = (append: (s: string) => void): Writable =>
    new Writable({ write: (c: Buffer, _e, cb) => (append(c.toString()), cb()) });
  const status = await runGuestCommand(ssh, shellQuote(['node', '-e', FS_BENCH_GUEST_SCRIPT, dir]), {
    stdout: sink((s) => (out += s)),
    stderr: sink((s) => (err += s)),
  });
  if (status !== 0) throw new Error(`fs bench in ${dir} failed (status ${status}): ${err.trim()}`);
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as FsFigures;
}
