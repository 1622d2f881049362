/**
 * Before a snapshot is taken, the template VM does once what every clone would otherwise do cold: a
 * session offer, an SSH connection with key exchange and authentication, a command over pipes and one
 * on a PTY. The guest's Node has then compiled those code paths and the guest's page cache holds bash
 * and its libraries, so each clone starts from warm code instead of paying for it after the restore.
 * The agent also starts its spare login shell (guest spare-shell.ts) after that session; we wait until
 * it has printed its prompt, so clones hand it out ready. The session is marked as a template's: once it
 * ends, the agent holds SSH until the next offer, so a clone never answers SSH with the template's keys.
 *
 * The template's clock is set a day back: every clone's own session offer then steps the clock
 * forward by more than OpenSSL's one-hour reseed interval, which makes the agent's in-process DRBGs
 * reseed from the (freshly reseeded) kernel CRNG. Without that, clones would share those DRBG states
 * and draw the same SSH key-exchange randomness.
 */
import type ssh2 from 'ssh2';
import type { ClientChannel } from 'ssh2';
import { HostControl } from '../control/host-control.js';
import { connectSsh } from '../ssh/client.js';
import { generateClientKey, generateGuestHostKey } from '../ssh/keys.js';
import { SSH_HELD_LOG } from '../../shared/control.js';
import { SPARE_READY_LOG } from '../../shared/spare-shell.js';
import type { VmDriver } from './driver.js';
import { cpuTicksOf } from '../store/process-identity.js';

/** Well over OpenSSL 3's primary DRBG reseed_time_interval (1 h), with room for clock drift. */
export const TEMPLATE_CLOCK_BEHIND_MS = 24 * 3600 * 1000;
const CONSOLE_WAIT_MS = 20_000;
/** Quiet: at most 1 tick (10 ms) of VMM CPU per 200 ms window, three windows in a row; at most 10 s. */
const QUIET_WINDOW_MS = 200;
const QUIET_MAX_TICKS = 1;
const QUIET_WINDOWS = 3;
const QUIET_WAIT_MS = 10_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function run(ssh: ssh2.Client, command: string, pty: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    ssh.exec(command, pty ? { pty: { term: 'xterm-256color', cols: 80, rows: 24 } } : {}, (err, ch: ClientChannel) => {
      if (err) return reject(err);
      ch.resume();
      ch.stderr.resume();
      ch.on('close', () => resolve());
    });
  });
}

/**
 * `syncDisk`: end with a guest `sync`, for VMMs that save the disk beside the memory image (Firecracker:
 * its snapshot does not flush the guest's writes; QEMU's migration stream and qcow2 layer need no help).
 */
export async function warmUpTemplate(
  driver: Pick<VmDriver, 'channel' | 'consoleTail' | 'pid'>,
  opts: { signal: AbortSignal; timeoutMs: number; syncDisk?: boolean; waitForSpare?: boolean },
): Promise<void> {
  const control = new HostControl(await driver.channel('control').connect(opts));
  const key = generateClientKey();
  try {
    const { ready } = await control.handshake({
      clientKey: key.publicOpenSsh,
      hostKey: generateGuestHostKey(),
      template: true,
      timeMs: Date.now() - TEMPLATE_CLOCK_BEHIND_MS,
      ...opts,
    });
    const sock = await driver.channel('ssh').connect(opts);
    const ssh = await connectSsh({
      sock,
      privateKey: key.privateKey,
      pinnedHostKey: ready.hostKey,
      timeoutMs: opts.timeoutMs,
    });
    try {
      await run(ssh, 'true', false);
      await run(ssh, 'true', true);
    } finally {
      ssh.end();
    }
    // A pooled clone (pool/keeper.ts) already has its template's spare shell: the agent starts no other.
    if (opts.waitForSpare !== false) await consoleSays(driver, SPARE_READY_LOG, opts.signal);
    if (opts.syncDisk) await syncGuestDisk(driver, key, ready.hostKey, opts);
  } finally {
    control.close();
  }
  // The agent now holds SSH until a clone's own session is applied (control.ts `template`).
  await consoleSays(driver, SSH_HELD_LOG, opts.signal);
  await untilQuiet(driver.pid, opts.signal);
}

/**
 * Waits until the VMM has used (almost) no CPU for a while: the snapshot then catches the guest idle, not
 * halfway through work every clone would inherit and finish on cold code (the agent's GC just before,
 * its sweeper threads, kernel writeback). Gives up after a while: a busy template still snapshots fine.
 */
async function untilQuiet(pid: number | undefined, signal: AbortSignal): Promise<void> {
  if (pid === undefined) return;
  const deadline = Date.now() + QUIET_WAIT_MS;
  let quietWindows = 0;
  let last = cpuTicksOf(pid);
  while (quietWindows < QUIET_WINDOWS && Date.now() < deadline && last !== undefined) {
    signal.throwIfAborted();
    await sleep(QUIET_WINDOW_MS);
    const now = cpuTicksOf(pid);
    if (now === undefined) return;
    quietWindows = now - last <= QUIET_MAX_TICKS ? quietWindows + 1 : 0;
    last = now;
  }
}

async function consoleSays(driver: Pick<VmDriver, 'consoleTail'>, line: string, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + CONSOLE_WAIT_MS;
  while (!(await driver.consoleTail(100)).includes(line)) {
    signal.throwIfAborted();
    if (Date.now() > deadline)
      throw new Error(`the template's agent did not log "${line}" within ${CONSOLE_WAIT_MS} ms`);
    await sleep(50);
  }
}

/** A last SSH connection that runs `sync` (after the spare shell started, so its writes are on disk too). */
async function syncGuestDisk(
  driver: Pick<VmDriver, 'channel'>,
  key: ReturnType<typeof generateClientKey>,
  hostKey: string,
  opts: { signal: AbortSignal; timeoutMs: number },
): Promise<void> {
  const ssh = await connectSsh({
    sock: await driver.channel('ssh').connect(opts),
    privateKey: key.privateKey,
    pinnedHostKey: hostKey,
    timeoutMs: opts.timeoutMs,
  });
  try {
    await run(ssh, 'sync', false);
  } finally {
    ssh.end();
  }
}
