import type { Accel, InstanceDir, ProbeResult, VmDriverFactory, VmSpec } from '../driver.js';
import { findExecutable } from '../which.js';
import { QemuDriver } from './driver.js';
import type { QemuCreateExtras, QemuHost } from './qemu-host.js';
import { qemuFacts } from './facts.js';
import { QemuWarmSnapshots } from './warm.js';
import type { WarmSnapshotFactory } from '../warm-snapshots.js';
import type { KeptDisk, KeptDiskFactory } from '../kept-disks.js';
import type { ResumeFactory, ResumeRequest } from '../suspend.js';
import { qemuResumeLayout } from './snapshot-layout.js';

export class QemuFactory implements VmDriverFactory, WarmSnapshotFactory, QemuHost, KeptDiskFactory, ResumeFactory {
  readonly name = 'qemu' as const;
  /** `stateDir`: where to cache what QEMU says about itself (facts.ts); without it QEMU is asked each time. */
  constructor(
    private readonly qemuBin = 'qemu-system-x86_64',
    private readonly qemuImgBin = 'qemu-img',
    private readonly stateDir?: string,
  ) {}

  async probe(): Promise<ProbeResult> {
    const bin = findExecutable(this.qemuBin);
    if (!bin)
      return {
        ok: false,
        reason: `${this.qemuBin} not found on PATH`,
        remedy: 'apt-get install qemu-system-x86 qemu-utils',
      };
    if (!findExecutable(this.qemuImgBin))
      return { ok: false, reason: `${this.qemuImgBin} not found on PATH`, remedy: 'apt-get install qemu-utils' };
    try {
      if (!(await qemuFacts(bin, this.stateDir)).hasMicrovm)
        return {
          ok: false,
          reason: `${bin} has no microvm machine type`,
          remedy: 'install a QEMU ≥ 4.2 built with microvm (Debian: qemu-system-x86)',
        };
    } catch (err) {
      return {
        ok: false,
        reason: `${bin} -M help / --version failed: ${(err as Error).message}`,
        remedy: 'reinstall qemu-system-x86',
      };
    }
    return { ok: true, accel: 'tcg' };
  }

  create(spec: VmSpec, dir: InstanceDir, accel: Accel, extra: QemuCreateExtras = {}): QemuDriver {
    return new QemuDriver(spec, dir, accel, {
      qemuBin: findExecutable(this.qemuBin) ?? this.qemuBin,
      qemuImgBin: this.qemuImgBin,
      ...extra,
    });
  }

  /** The kept disk is the qcow2 overlay itself, on the read-only base image. */
  createOnKeptDisk(spec: VmSpec, dir: InstanceDir, accel: Accel, disk: KeptDisk): QemuDriver {
    return this.create(spec, dir, accel, { overlayPath: disk.path, reuseOverlay: disk.exists });
  }

  /** Resume (vm/suspend.ts): the saved stream, RAM included, loaded onto the kept overlay as it is. */
  createResumed(spec: VmSpec, dir: InstanceDir, accel: Accel, disk: KeptDisk, req: ResumeRequest): QemuDriver {
    return this.create(spec, dir, accel, {
      overlayPath: disk.path,
      reuseOverlay: true,
      restore: { statePath: req.statePath },
      restoreVerified: req.verified,
      ...(req.onMark ? { onMark: req.onMark } : {}),
    });
  }

  async resumeIdentity(spec: VmSpec, accel: Accel): Promise<string> {
    return `${await this.version()} layout ${qemuResumeLayout(spec, accel)}`;
  }

  warmSnapshots(): QemuWarmSnapshots {
    return new QemuWarmSnapshots(this);
  }

  /** `QEMU emulator version 7.2.19 (...)`: part of a snapshot's identity (migration streams are version-bound). */
  async version(): Promise<string> {
    return (await qemuFacts(findExecutable(this.qemuBin) ?? this.qemuBin, this.stateDir)).version;
  }
}
