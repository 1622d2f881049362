/**
 * "Can KVM really run a guest here?" — answered by running one.
 *
 * /dev/kvm being present and writable is not enough: under nested virtualization KVM may accept ioctls and
 * then stop with "KVM internal error", or run so slowly (every first touch of a guest page costing
 * milliseconds) that a Debian kernel needs minutes to boot. So we boot a tiny guest (kvm-payload.ts) that
 * enters long mode and touches 64 MiB, under a deadline: on a real KVM host it finishes in well under
 * 100 ms plus VMM start-up; on the machines this was developed on it is still busy after 2.5 s, so we say no.
 *
 * The test guest runs under Firecracker itself when its binary is given (`--no-api --config-file`: the exact
 * VMM we will use), else under QEMU (`-M microvm -accel kvm`) when found on PATH.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildKvmPayload, KVM_PAYLOAD_MEMORY_MIB, KVM_PAYLOAD_QEMU_SUCCESS } from './kvm-payload.js';
import { findExecutable } from './which.js';

export const DEFAULT_KVM_CHECK_TIMEOUT_MS = 2_500;

export type KvmCheckResult =
  | { readonly ok: true; readonly via: 'firecracker' | 'qemu'; readonly elapsedMs: number }
  | { readonly ok: false; readonly reason: string; readonly via?: 'firecracker' | 'qemu' };

export interface KvmCheckOptions {
  /** Run the test guest under this Firecracker binary (preferred: it is the VMM we will use). */
  readonly firecrackerBin?: string;
  /** Else under this QEMU (default: qemu-system-x86_64 from PATH). */
  readonly qemuBin?: string;
  readonly timeoutMs?: number;
  readonly kvmDevice?: string;
}

/** How QEMU runs the test payload: microvm, nothing attached but the exit port the payload reports through. */
export function kvmPayloadQemuArgs(kernel: string, accel: 'kvm' | 'tcg'): string[] {
  return [
    '-M',
    'microvm',
    '-accel',
    accel,
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-serial',
    'none',
    '-m',
    String(KVM_PAYLOAD_MEMORY_MIB),
    '-kernel',
    kernel,
    '-device',
    'isa-debug-exit,iobase=0xf4,iosize=4',
  ];
}

export async function kvmCanRunGuest(opts: KvmCheckOptions = {}): Promise<KvmCheckResult> {
  const device = opts.kvmDevice ?? '/dev/kvm';
  try {
    await access(device, constants.R_OK | constants.W_OK);
  } catch (err) {
    return {
      ok: false,
      reason: `${device} is missing or not readable and writable (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    };
  }
  const timeoutMs = opts.timeoutMs ?? DEFAULT_KVM_CHECK_TIMEOUT_MS;
  const qemu = opts.firecrackerBin ? undefined : (opts.qemuBin ?? findExecutable('qemu-system-x86_64'));
  if (!opts.firecrackerBin && !qemu) {
    return {
      ok: false,
      reason: 'no VMM to run a test guest with (neither a firecracker binary nor qemu-system-x86_64 found)',
    };
  }
  const dir = await mkdtemp(join(tmpdir(), 'vg-kvm-check-'));
  try {
    const kernel = join(dir, 'payload.elf');
    await writeFile(kernel, buildKvmPayload());
    if (opts.firecrackerBin) {
      const config = join(dir, 'vm.json');
      await writeFile(
        config,
        JSON.stringify({
          'boot-source': { kernel_image_path: kernel, boot_args: 'reboot=k panic=1' },
          drives: [],
          'machine-config': { vcpu_count: 1, mem_size_mib: KVM_PAYLOAD_MEMORY_MIB },
        }),
      );
      return verdict(
        'firecracker',
        await runWithDeadline(opts.firecrackerBin, ['--no-api', '--config-file', config], dir, timeoutMs),
        0,
        timeoutMs,
      );
    }
    return verdict(
      'qemu',
      await runWithDeadline(qemu as string, kvmPayloadQemuArgs(kernel, 'kvm'), dir, timeoutMs),
      KVM_PAYLOAD_QEMU_SUCCESS,
      timeoutMs,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface RunOutcome {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  readonly elapsedMs: number;
  readonly stderr: string;
  readonly spawnError?: Error;
}

function verdict(via: 'firecracker' | 'qemu', run: RunOutcome, successCode: number, timeoutMs: number): KvmCheckResult {
  if (run.spawnError)
    return { ok: false, via, reason: `could not start ${via} for the KVM test guest: ${run.spawnError.message}` };
  if (run.code === successCode && !run.timedOut) return { ok: true, via, elapsedMs: run.elapsedMs };
  const tail = run.stderr.trim().split('\n').slice(-3).join(' | ');
  if (run.timedOut) {
    return {
      ok: false,
      via,
      reason: `KVM is present but a 64 MiB test guest did not finish within ${timeoutMs} ms (a real KVM host needs <0.2 s): nested virtualization without usable hardware support?${tail ? ` ${via} said: ${tail}` : ''}`,
    };
  }
  return {
    ok: false,
    via,
    reason: `KVM is present but could not run a test guest: ${via} exited with ${run.code ?? run.signal}${tail ? `: ${tail}` : ''}`,
  };
}

function runWithDeadline(bin: string, args: string[], cwd: string, timeoutMs: number): Promise<RunOutcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    let stderr = '';
    let timedOut = false;
    const child = spawn(bin, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr = (stderr + s).slice(-4096);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, signal: null, timedOut, elapsedMs: Date.now() - started, stderr, spawnError: err });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, timedOut, elapsedMs: Date.now() - started, stderr });
    });
  });
}
