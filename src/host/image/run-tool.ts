/** Runs a build tool, collecting stderr for the error message and streaming lines to a callback. */
import { spawn } from 'node:child_process';
import { ImageBuildError, ImageToolMissingError } from './errors.js';

export interface ToolOptions {
  cwd?: string;
  signal?: AbortSignal;
  onLine?: (line: string) => void;
  stdin?: Buffer;
  /** Debian package that provides the tool, for the "not installed" message. */
  pkg?: string;
  /** How to stop the tool on abort; SIGTERM to it by default. */
  stop?: (pid: number) => void;
}

/** What an aborted run rejects with once the tool is gone: exit-codes.ts maps the name to "interrupted". */
function abortError(cmd: string): Error {
  const err = new Error(`${cmd} was stopped: the build was cancelled`);
  err.name = 'AbortError';
  return err;
}

/**
 * Resolves or rejects only once the tool has exited and closed its output, also on abort: a caller that
 * removes the tool's work dir after a cancel must not race a tool still writing into it.
 */
export async function runTool(cmd: string, args: readonly string[], opts: ToolOptions = {}): Promise<string> {
  if (opts.signal?.aborted) throw abortError(cmd);
  return await new Promise<string>((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const onAbort = (): void => {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      if (opts.stop) opts.stop(child.pid);
      else child.kill('SIGTERM');
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    let stdout = '';
    let tail = '';
    const onText = (text: string): void => {
      tail = (tail + text).slice(-4000);
      if (opts.onLine) for (const line of text.split('\n')) if (line.trim()) opts.onLine(line.trim());
    };
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', onText);
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT')
        reject(
          new ImageToolMissingError(
            `${cmd} is not installed${opts.pkg ? `: install the Debian package ${opts.pkg} (apt-get install ${opts.pkg})` : ''}`,
          ),
        );
      else reject(err);
    });
    child.on('close', (code, sig) => {
      opts.signal?.removeEventListener('abort', onAbort);
      if (opts.signal?.aborted) reject(abortError(cmd));
      else if (code === 0) resolve(stdout);
      else
        reject(
          new ImageBuildError(
            `${cmd} ${args.slice(0, 3).join(' ')}… failed (${sig ?? `exit ${code}`}):\n${tail.trim()}`,
          ),
        );
    });
    child.stdin.on('error', () => {}); // a tool that exits without reading its stdin is fine
    child.stdin.end(opts.stdin ?? '');
  });
}
