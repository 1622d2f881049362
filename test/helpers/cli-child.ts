/** The real CLI as a long-running child: watch its output as it comes, signal it, await its end. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readOwner, type OwnerRecord } from '../../src/host/store/process-identity.js';
import { ghostPaths } from '../../src/host/store/paths.js';
import { BIN, type CliResult } from './cli.js';

export interface CliChild {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** Resolves when stdout contains `text`; rejects if the CLI ends first or after `ms`. */
  waitForStdout(text: string, ms: number): Promise<void>;
  done: Promise<CliResult>;
}

export function spawnCli(args: string[]): CliChild {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let err = '';
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdin.on('error', () => {});
  child.stdin.end();
  const done = new Promise<CliResult>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout: Buffer.concat(out), stderr: err })),
  );
  const stdout = (): string => Buffer.concat(out).toString();
  const waitForStdout = (text: string, ms: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => finish(new Error(`no ${JSON.stringify(text)} on stdout within ${ms} ms; stderr: ${err}`)),
        ms,
      );
      const check = (): void => {
        if (stdout().includes(text)) finish();
      };
      const ended = (): void =>
        finish(new Error(`the CLI ended before printing ${JSON.stringify(text)}; stdout: ${stdout()} stderr: ${err}`));
      const finish = (e?: Error): void => {
        clearTimeout(timer);
        child.stdout.removeListener('data', check);
        child.removeListener('close', ended);
        if (e) reject(e);
        else resolve();
      };
      child.stdout.on('data', check);
      child.once('close', ended);
      check();
    });
  return { child, stdout, stderr: () => err, waitForStdout, done };
}

/** The per-VM dir owned by host process `pid`, with its owner record. */
export function vmDirOwnedBy(pid: number): { dir: string; name: string; owner: OwnerRecord } | undefined {
  const vms = ghostPaths().vmsDir;
  let names: string[] = [];
  try {
    names = readdirSync(vms);
  } catch {
    return undefined;
  }
  for (const name of names) {
    const owner = readOwner(join(vms, name, 'owner.json'));
    if (owner?.host.pid === pid) return { dir: join(vms, name), name, owner };
  }
  return undefined;
}

/** True while `pid` runs; a zombie (dead, not yet reaped by whoever inherited it) counts as gone. */
export function processAlive(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

/** Waits until `pred()` holds, polling; false after `ms`. */
export async function eventually(pred: () => boolean, ms: number, stepMs = 50): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (pred()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return pred();
}
