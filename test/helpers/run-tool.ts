/** Runs a real tool (ssh, scp, sftp, rsync; our CLI through cli.ts) as a child process: its exit status and output, with a time limit. */
import { spawn } from 'node:child_process';

export interface ToolResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

export function runTool(
  cmd: string,
  args: string[],
  opts: { stdin?: Buffer | string; timeoutMs?: number; cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...opts.env },
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
    });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 90_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: err });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.stdin);
  });
}

/** A message for failed expectations: what the tool said. */
export const said = (r: { code: number | null; stdout: Buffer; stderr: string }): string =>
  `exit ${r.code}\nstdout: ${r.stdout.toString().slice(0, 2000)}\nstderr: ${r.stderr.slice(0, 2000)}`;
