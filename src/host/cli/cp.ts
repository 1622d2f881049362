/**
 * `virtualghost cp SRC DST`: copies files and directory trees between this machine and a running named
 * VM, with `NAME:/path` on exactly one side. Recursive, keeps modes and mtimes, over SFTP through the VM's
 * SSH relay (its own SSH connection). Progress for large files on stderr when stderr is a terminal.
 */
import type ssh2 from 'ssh2';
import type { SFTPWrapper } from 'ssh2';
import { escapeControl } from '../../shared/escape-control.js';
import { validateVmName } from '../store/instance-dir.js';
import { ghostPaths } from '../store/paths.js';
import { connectNamedVm } from '../ssh/named-vm.js';
import { copyFromGuest } from '../transfer/copy-from-guest.js';
import { copyToGuest, type CopyOptions } from '../transfer/sftp-copy.js';
import { notice } from './context.js';
import { CliUsageError } from './errors.js';
import { abortOnSignals } from './signals-abort.js';

export interface RemotePath {
  vm: string;
  path: string;
}

/** `NAME:/path` → remote; anything else (including `./a:b` and `/x:y`) is a local path. */
export function parseCopyPath(arg: string): RemotePath | string {
  const m = /^([A-Za-z0-9][A-Za-z0-9_.-]{0,39}):(.*)$/s.exec(arg);
  if (!m) return arg;
  const [, vm = '', path = ''] = m;
  validateVmName(vm);
  // A guest path relative to root's home, like scp's `host:file`; empty means the home itself.
  return { vm, path: path === '' ? '.' : path };
}

const LARGE_FILE_BYTES = 4 * 1024 * 1024;

function progressPrinter(stream: NodeJS.WriteStream): CopyOptions['onProgress'] {
  if (!stream.isTTY) return undefined;
  const started = new Map<string, number>();
  let lastDraw = 0;
  return (file, done, total) => {
    if (total < LARGE_FILE_BYTES) return;
    const t0 = started.get(file) ?? Date.now();
    started.set(file, t0);
    // SFTP reports every 32 KB chunk: redraw at most ten times a second, and always at the end.
    if (done < total && Date.now() - lastDraw < 100) return;
    lastDraw = Date.now();
    const secs = Math.max(0.001, (Date.now() - t0) / 1000);
    const line = `${escapeControl(file)} ${((100 * done) / total).toFixed(0).padStart(3)}% ${(done / 1e6).toFixed(1)}/${(total / 1e6).toFixed(1)} MB ${(done / 1e6 / secs).toFixed(1)} MB/s`;
    stream.write(`\r\x1b[2K${line.slice(-Math.max(20, (stream.columns || 80) - 1))}`);
    if (done >= total) {
      stream.write('\n');
      started.delete(file);
    }
  };
}

function openSftp(ssh: ssh2.Client): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => ssh.sftp((err, sftp) => (err ? reject(err) : resolve(sftp))));
}

export async function copy(src: string, dst: string): Promise<number> {
  const from = parseCopyPath(src);
  const to = parseCopyPath(dst);
  if (typeof from === typeof to) {
    throw new CliUsageError(
      typeof from === 'string'
        ? `cp needs a VM on one side: NAME:/path (got ${src} and ${dst})`
        : `cp copies between this machine and one VM: only one side can be NAME:/path (got ${src} and ${dst})`,
    );
  }
  const remote = (typeof from === 'string' ? to : from) as RemotePath;
  // Ctrl-C (or SIGTERM/SIGHUP) fails the SFTP requests in flight and ends the SSH connection, so the copy
  // unwinds through its own cleanup (a half-written download's temp file is removed), then exit 128+N.
  return abortOnSignals(async (signal) => {
    const ssh = await connectNamedVm(ghostPaths(), remote.vm);
    const hangUp = (): void => void ssh.end();
    signal.addEventListener('abort', hangUp);
    try {
      const sftp = await openSftp(ssh);
      const onProgress = progressPrinter(process.stderr);
      const opts: CopyOptions = {
        remoteLabel: (p) => `${remote.vm}:${p}`,
        onNotice: notice,
        signal,
        ...(onProgress ? { onProgress } : {}),
      };
      if (typeof from === 'string') await copyToGuest(sftp, from, remote.path, opts);
      else await copyFromGuest(sftp, from.path, to as string, opts);
      sftp.end();
      return 0;
    } finally {
      signal.removeEventListener('abort', hangUp);
      ssh.end();
    }
  });
}
