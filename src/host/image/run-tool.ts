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
}

export async function runTool(cmd: string, args: readonly string[], opts: ToolOptions = {}): Promise<string> {
  return await new Promise<string>((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
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
      if (code === 0) resolve(stdout);
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
