/**
 * Can Firecracker run here? Checks, cheapest first, each failure with its reason and remedy:
 * Linux → binary (option, else PATH) → `--version` ≥ MIN_FIRECRACKER_VERSION → setpriv (no-orphan guarantee)
 * → jailer prerequisites → /dev/kvm present and read/write → (unless kvmCheck=false) KVM really runs a guest.
 * Never throws.
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { errorMessage } from '../../../shared/errors.js';
import type { ProbeResult } from '../driver.js';
import { kvmCanRunGuest } from '../kvm-check.js';
import { compareVersions, formatVersion, MIN_FIRECRACKER_VERSION, parseFirecrackerVersion } from './version.js';
import { findExecutable } from '../which.js';
import type { FirecrackerOptions } from './contracts.js';

export async function probeFirecracker(options: FirecrackerOptions): Promise<ProbeResult> {
  try {
    return await probe(options);
  } catch (err) {
    return {
      ok: false,
      reason: `Firecracker probe failed unexpectedly: ${errorMessage(err)}`,
      remedy: 'Run `virtualghost doctor` and report this.',
    };
  }
}

async function probe(options: FirecrackerOptions): Promise<ProbeResult> {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return {
      ok: false,
      reason: `Firecracker needs Linux on x86-64 with KVM (this is ${process.platform}/${process.arch})`,
      remedy: 'Use the qemu backend.',
    };
  }
  const bin = options.bin ? findExecutable(options.bin) : findExecutable('firecracker');
  if (!bin) {
    return options.bin
      ? {
          ok: false,
          reason: `firecracker.bin = ${options.bin} is not an executable file`,
          remedy: 'Fix `firecracker.bin` (virtualghost config set firecracker.bin /path/to/firecracker).',
        }
      : {
          ok: false,
          reason: 'no `firecracker` binary on PATH',
          remedy: `Install Firecracker >= ${formatVersion(MIN_FIRECRACKER_VERSION)} (github.com/firecracker-microvm/firecracker/releases) or set firecracker.bin.`,
        };
  }
  const versionOut = await run(bin, ['--version'], options.env);
  const version = parseFirecrackerVersion(versionOut.stdout + versionOut.stderr);
  if (!version) {
    return {
      ok: false,
      reason: `${bin} --version did not print "Firecracker vX.Y.Z" (${versionOut.error ?? JSON.stringify((versionOut.stdout + versionOut.stderr).slice(0, 120))})`,
      remedy: 'Point firecracker.bin at a Firecracker release binary.',
    };
  }
  if (compareVersions(version, MIN_FIRECRACKER_VERSION) < 0) {
    return {
      ok: false,
      reason: `Firecracker ${formatVersion(version)} at ${bin} is too old: >= ${formatVersion(MIN_FIRECRACKER_VERSION)} is needed (it describes virtio-mmio devices via ACPI, which our stock kernel relies on)`,
      remedy: 'Install a newer Firecracker release.',
    };
  }
  if (!findExecutable('setpriv')) {
    return {
      ok: false,
      reason: 'setpriv (util-linux) not found: needed so Firecracker dies with us',
      remedy: 'Install util-linux.',
    };
  }
  if (options.jailer) {
    if (!findExecutable(options.jailer.bin))
      return {
        ok: false,
        reason: `jailer binary ${options.jailer.bin} not found or not executable`,
        remedy: 'Fix the jailer bin option or disable the jailer.',
      };
    if (process.getuid?.() !== 0)
      return {
        ok: false,
        reason: 'the Firecracker jailer must be started as root',
        remedy: 'Run as root or disable the jailer.',
      };
  }
  const kvm = options.kvmDevice ?? '/dev/kvm';
  try {
    await access(kvm, constants.F_OK);
  } catch {
    return {
      ok: false,
      reason: `${kvm} does not exist: no hardware virtualization (KVM) on this host`,
      remedy: 'Enable VT-x/AMD-V (or nested virtualization for a VM) and load the kvm module, or use the qemu backend.',
    };
  }
  try {
    await access(kvm, constants.R_OK | constants.W_OK);
  } catch {
    return {
      ok: false,
      reason: `${kvm} exists but this user cannot read and write it`,
      remedy: `Add yourself to its group (usually: sudo usermod -aG kvm $USER, then log in again).`,
    };
  }
  if (options.kvmCheck) {
    const check = await kvmCanRunGuest({ firecrackerBin: bin, kvmDevice: kvm, timeoutMs: options.kvmCheckTimeoutMs });
    if (!check.ok) {
      return {
        ok: false,
        reason: check.reason,
        remedy: 'Use the qemu backend (TCG). If you are sure KVM works here, set firecracker.kvm_check = false.',
      };
    }
  }
  return {
    ok: true,
    accel: 'kvm',
    ...(options.kvmCheck ? {} : { notice: 'KVM run check skipped (firecracker.kvm_check = false)' }),
  };
}

function run(
  bin: string,
  args: string[],
  env?: NodeJS.ProcessEnv,
): Promise<{ stdout: string; stderr: string; error?: string }> {
  return new Promise((resolve) => {
    execFile(bin, args, { timeout: 3_000, env: env ?? process.env, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ stdout, stderr, ...(err ? { error: err.message } : {}) });
    });
  });
}
