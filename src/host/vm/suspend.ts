/**
 * Suspend and resume as a backend capability: a running VM saved whole (RAM, device state, with its disk
 * flushed at the same instant) so that the same VM can later run on from where it was, instead of booting
 * its kept disk cold. Unlike a warm snapshot, a saved state belongs to one VM, is resumed at most once,
 * and needs that VM's own disk, unchanged since the save.
 */
import type { Accel, InstanceDir, VmDriver, VmDriverFactory, VmSpec } from './driver.js';
import type { KeptDisk } from './kept-disks.js';
import type { MarkFn } from '../trace.js';

export interface SuspendableVm {
  /**
   * Saves the running VM into `statePath` (0600): RAM and device state, the disk flushed and left as it
   * was at the instant the guest stopped. The VM no longer runs afterwards; stop() still ends the VMM.
   */
  suspendTo(statePath: string): Promise<void>;
}

export function canSuspend(driver: VmDriver): driver is VmDriver & SuspendableVm {
  return typeof (driver as Partial<SuspendableVm>).suspendTo === 'function';
}

export interface ResumeRequest {
  readonly statePath: string;
  /** Settles once the state file is known to be the one saved (its hash): the VMM loads nothing before. */
  readonly verified: Promise<void>;
  readonly onMark?: MarkFn;
}

export interface ResumeFactory {
  /**
   * Everything a saved state depends on besides the VM's disk and size: the VMM's version and the
   * layout of the machine we start it with. A state saved under another identity cannot be resumed.
   */
  resumeIdentity(spec: VmSpec, accel: Accel): Promise<string>;
  /** A driver whose start() loads the saved state onto the kept disk instead of booting. */
  createResumed(spec: VmSpec, dir: InstanceDir, accel: Accel, disk: KeptDisk, req: ResumeRequest): VmDriver;
}

export function canResume(factory: VmDriverFactory): factory is VmDriverFactory & ResumeFactory {
  return typeof (factory as Partial<ResumeFactory>).createResumed === 'function';
}
