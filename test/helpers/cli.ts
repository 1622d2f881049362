/** Runs the real CLI (bin/virtualghost.js) as a child process, the way a user does. */
import { fileURLToPath } from 'node:url';
import { runTool, type ToolResult } from './run-tool.js';

export const BIN = fileURLToPath(new URL('../../bin/virtualghost.js', import.meta.url));

export type CliResult = ToolResult;

export function runCli(
  args: string[],
  opts: { stdin?: Buffer | string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliResult> {
  return runTool(process.execPath, [BIN, ...args], { ...opts, timeoutMs: opts.timeoutMs ?? 110_000 });
}

/** `exec --accel tcg -- sh -c SCRIPT` in a fresh throw-away VM. */
export function execShell(script: string, opts: Parameters<typeof runCli>[1] = {}): Promise<CliResult> {
  return runCli(['exec', '--accel', 'tcg', '--', 'sh', '-c', script], opts);
}
