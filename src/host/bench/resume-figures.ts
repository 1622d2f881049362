/**
 * The bench's `resume` part (issue #18): `run NAME` of a suspended kept VM, from the command's start to its
 * first shell prompt, against `run NAME` of the same kept VM booted cold from its disk (its state
 * discarded) in the same run. Both go through the real CLI as a user runs it (stdin a pipe: the raw
 * attach), and `stop NAME` between resumes saves the VM again.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { summarize, type Summary } from './stats.js';

const BIN = fileURLToPath(new URL('../../../bin/virtualghost.js', import.meta.url));
const PROMPT = /[#$] $/;
const TIMEOUT_MS = 180_000;

export interface ResumeFigures {
  resumeToPrompt: Summary;
  coldToPrompt: Summary;
  /** `stop NAME` of the running kept VM: saving it. */
  suspend: Summary;
  stateBytes: Summary;
}

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: cliEnv() });
    let stdout = '',
      stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const cliEnv = (): NodeJS.ProcessEnv => ({ ...process.env, VIRTUALGHOST_ACCEL: 'tcg' });

async function must(args: string[]): Promise<string> {
  const r = await cli(args);
  if (r.code !== 0) throw new Error(`virtualghost ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** `run NAME` → the first prompt on its stdout, in ms; then the shell is exited (the VM keeps running). */
async function runToPromptMs(name: string): Promise<{ ms: number; stderr: string }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [BIN, 'run', name], { stdio: ['pipe', 'pipe', 'pipe'], env: cliEnv() });
  let out = '',
    stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const closed = new Promise<void>((r) => child.on('close', () => r()));
  const ms = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no prompt from run ${name} in ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out = (out + d).slice(-200);
      if (PROMPT.test(out)) {
        clearTimeout(timer);
        resolve(performance.now() - t0);
      }
    });
    void closed.then(() => reject(new Error(`run ${name} ended before a prompt: ${stderr.trim()}`)));
  });
  child.stdin.end('exit\n');
  await closed;
  return { ms, stderr };
}

export async function resumeFigures(runs: number, log: (m: string) => void): Promise<ResumeFigures> {
  const name = `bench-resume-${process.pid}`;
  const resumed: number[] = [],
    cold: number[] = [],
    suspend: number[] = [],
    bytes: number[] = [];
  const savedBytes = async (): Promise<number> => {
    const rows = JSON.parse(await must(['ps', '--json'])) as Array<{ name: string; savedStateBytes: number | null }>;
    const b = rows.find((r) => r.name === name)?.savedStateBytes;
    if (typeof b !== 'number') throw new Error(`${name} has no saved state after stop`);
    return b;
  };
  try {
    await must(['run', name, '--detach', '--keep']);
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await must(['stop', name]);
      suspend.push(performance.now() - t);
      bytes.push(await savedBytes());
      const r = await runToPromptMs(name);
      if (/cannot be resumed|cold/.test(r.stderr)) throw new Error(`run ${name} did not resume: ${r.stderr.trim()}`);
      resumed.push(r.ms);
      log(`  resume ${i + 1}: prompt after ${r.ms.toFixed(0)} ms`);
    }
    for (let i = 0; i < runs; i++) {
      await must(['stop', name, '--discard-state']);
      const r = await runToPromptMs(name);
      cold.push(r.ms);
      log(`  cold boot of the kept disk ${i + 1}: prompt after ${r.ms.toFixed(0)} ms`);
    }
  } finally {
    await cli(['stop', name, '--discard-state']);
    await cli(['rm', name]);
  }
  const s = (xs: number[]): Summary => summarize(xs.map((x) => x / 1000));
  return {
    resumeToPrompt: s(resumed),
    coldToPrompt: s(cold),
    suspend: s(suspend),
    stateBytes: summarize(bytes.map((b) => b / 1e6)),
  };
}
