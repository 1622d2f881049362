/**
 * The two central interfaces between a session and a VMM. Small and capability-based: optional abilities
 * (snapshots, ...) are separate interfaces with type guards, never stub methods.
 */
import type { Duplex } from 'node:stream';
import type { NetProfile } from '../../shared/guest-net.js';
import type { StreamName } from '../../shared/ports.js';
import type { GuestMount } from '../../shared/mounts.js';
import type { MountSpec } from '../workspace/mount-spec.js';

export type BackendName = 'firecracker' | 'qemu';
export type Accel = 'kvm' | 'tcg';

/** Everything a VMM needs to boot our guest. Paths are absolute and must outlive the VM. */
export interface VmSpec {
  readonly name: string;
  readonly vcpus: number;
  readonly memoryMiB: number;
  readonly kernelPath: string;
  readonly initrdPath: string;
  /** Read-only base root filesystem (raw ext4). Never written: each VM gets its own writable layer. */
  readonly rootfsPath: string;
  /** Extra kernel command line words (appended after the driver's own). */
  readonly extraKernelArgs?: readonly string[];
  /** The guest's network (default `none`: no NIC). Part of a warm snapshot's key: the NIC is guest state. */
  readonly net?: NetProfile;
  /**
   * Host dirs shared with the guest (`-v`), checked (workspace/mount-check.ts). Not part of a snapshot's
   * key: a backend with shared folders exports them itself (SharedFolders); on one without, they stay
   * here for the copy-in that replaces them.
   */
  readonly mounts?: readonly MountSpec[];
}

/** The per-VM directory (0700) that holds sockets, logs, keys and the writable layer. */
export interface InstanceDir {
  readonly path: string;
  file(name: string): string;
}

export type ProbeResult = { ok: true; accel: Accel; notice?: string } | { ok: false; reason: string; remedy: string };

export interface VmDriverFactory {
  readonly name: BackendName;
  /** Never throws: says whether this backend can run here and why not. */
  probe(): Promise<ProbeResult>;
  create(spec: VmSpec, dir: InstanceDir, accel: Accel): VmDriver;
}

export type VmState = 'created' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

export interface VmExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface VmDriver extends AsyncDisposable {
  readonly backend: BackendName;
  readonly accel: Accel;
  readonly state: VmState;
  /** Spawns the VMM and configures it; resolves once the guest is booting (not when the agent answers). */
  start(signal: AbortSignal): Promise<void>;
  /** Idempotent: graceful, then TERM, then KILL. Resolves when the VMM process is gone. */
  stop(opts?: { timeoutMs?: number }): Promise<void>;
  /** Settles when the VMM process exits, for whatever reason. Never rejects. */
  readonly exited: Promise<VmExit>;
  /** Last lines of the guest serial console, for error messages. */
  consoleTail(lines?: number): Promise<string>;
  channel(name: StreamName): GuestChannel;
  /** SSH streams for clients beside the session's own `channel('ssh')` (see SshStreamPool). */
  sshPool(): SshStreamPool;
  /** VMM process id while running (for RSS measurement and ownership checks). */
  readonly pid: number | undefined;
  /** Helper processes beside the VMM (the NAT), recorded so that `clean` can end them if we die. */
  readonly helperPids?: readonly number[];
}

/**
 * Independent SSH connections to the guest agent, for clients other than the session (the relay behind
 * `proxy`, `exec NAME`, `cp`). At most `capacity` may be connected at once, and each index at most once:
 * a virtio-serial port admits one host connection at a time. Infinity where every connect is its own
 * stream (vsock), and then the index does not matter.
 */
export interface SshStreamPool {
  readonly capacity: number;
  channel(index: number): GuestChannel;
}

export interface GuestChannel {
  /** Opens a fresh byte stream to the guest agent's `name` stream. */
  connect(opts: { signal: AbortSignal; timeoutMs: number }): Promise<Duplex>;
}

/** A driver whose VMM exports spec.mounts to the guest: what the agent must mount, told in the session offer. */
export interface SharedFolders {
  guestMounts(): readonly GuestMount[];
}

export function hasSharedFolders(driver: VmDriver): driver is VmDriver & SharedFolders {
  return typeof (driver as Partial<SharedFolders>).guestMounts === 'function';
}
