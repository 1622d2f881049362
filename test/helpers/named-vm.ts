/**
 * A running named VM for tests, started the way users start one: `virtualghost run NAME --detach` (a
 * supervisor holding the VM, its relay socket, per-VM key and known_hosts), stopped with `virtualghost stop`.
 */
import { writeFileSync } from 'node:fs';
import { runCli } from './cli.js';

export interface NamedVm {
  name: string;
  stop(): Promise<void>;
}

/** `args`: more flags for `run NAME --detach` (e.g. `-p 8080:80`); `timeoutMs` for one that converts an image first. */
export async function startNamedVm(name: string, args: readonly string[] = [], timeoutMs?: number): Promise<NamedVm> {
  const started = await runCli(['run', name, '--detach', ...args], {
    env: { VIRTUALGHOST_ACCEL: 'tcg' },
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  });
  if (started.code !== 0) throw new Error(`run ${name} --detach exited ${started.code}: ${started.stderr}`);
  let stopping: Promise<void> | undefined;
  return {
    name,
    stop: () =>
      (stopping ??= (async () => {
        const r = await runCli(['stop', name]);
        if (r.code !== 0) throw new Error(`stop ${name} exited ${r.code}: ${r.stderr}`);
      })()),
  };
}

/** Writes the `virtualghost ssh-config NAME` block to `file` (0600), as a user would for OpenSSH's -F. */
export async function writeSshConfig(name: string, file: string): Promise<void> {
  const r = await runCli(['ssh-config', name]);
  if (r.code !== 0) throw new Error(`ssh-config ${name} exited ${r.code}: ${r.stderr}`);
  writeFileSync(file, r.stdout, { mode: 0o600 });
}
