/**
 * `logs NAME [--follow]`: the guest's serial console, then the VMM's and the supervisor's logs — of a
 * running VM from its per-VM dir, of a stopped kept one from its state dir. --follow keeps printing the
 * console as it grows until the VM ends. The text is the guest's (or carries it): control characters are
 * printed escaped (log-text.ts); the files themselves are byte-exact in the VM's dir.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { keptDir } from '../supervisor/kept.js';
import { requireVm } from '../supervisor/registry.js';
import { validateVmName } from '../store/instance-dir.js';
import { INSTANCE_FILES, VMM_AND_SUPERVISOR_LOGS } from '../store/instance-files.js';
import { ghostPaths } from '../store/paths.js';
import { LogTextEscaper } from './log-text.js';

const CONSOLE = INSTANCE_FILES.console;

function copyFrom(file: string, offset: number, out: NodeJS.WritableStream, text: LogTextEscaper): number {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return offset;
  }
  try {
    const buf = Buffer.alloc(64 << 10);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, offset);
      if (n <= 0) return offset;
      out.write(text.write(buf.subarray(0, n)));
      offset += n;
    }
  } finally {
    closeSync(fd);
  }
}

export async function logsCommand(name: string, opts: { follow?: boolean }): Promise<number> {
  const paths = ghostPaths();
  const entry = requireVm(paths, validateVmName(name));
  const dir = entry.dir ?? keptDir(paths, name);
  for (const f of VMM_AND_SUPERVISOR_LOGS) {
    const file = join(dir, f);
    if (existsSync(file) && statSync(file).size > 0) {
      process.stdout.write(`==> ${f} <==\n`);
      const text = new LogTextEscaper();
      copyFrom(file, 0, process.stdout, text);
      process.stdout.write(text.end());
    }
  }
  process.stdout.write(`==> ${CONSOLE} (guest serial console) <==\n`);
  const consoleFile = join(dir, CONSOLE);
  const text = new LogTextEscaper();
  let offset = copyFrom(consoleFile, 0, process.stdout, text);
  if (opts.follow && entry.dir) {
    while (existsSync(entry.dir)) {
      await new Promise((r) => setTimeout(r, 200));
      offset = copyFrom(consoleFile, offset, process.stdout, text);
    }
  }
  process.stdout.write(text.end());
  return 0;
}
