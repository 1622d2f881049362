/** Guest-wide effects of a session offer, through the native helper (Node cannot set the clock or reseed). */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { HELPER_BIN } from './paths.js';

const execFileAsync = promisify(execFile);

/**
 * Sets the guest clock to the host's `timeMs`, as of `receivedAtMonoNs` (process.hrtime.bigint() when the
 * offer arrived: libuv's clock is CLOCK_MONOTONIC), so the helper adds the time spent before it ran.
 */
export async function setClock(timeMs: number, receivedAtMonoNs: bigint): Promise<void> {
  const sec = Math.floor(timeMs / 1000);
  const nsec = Math.round((timeMs - sec * 1000) * 1e6);
  await execFileAsync(HELPER_BIN, ['settime', String(sec), String(nsec), receivedAtMonoNs.toString()]);
}

export async function addEntropy(bytes: Buffer): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn(HELPER_BIN, ['reseed'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ghostly-helper reseed failed: ${stderr.trim()}`))));
    child.stdin.end(bytes);
  });
}

/** Ends the VM. A reboot, because both VMMs turn it into an exit (QEMU -no-reboot, Firecracker reboot=k). */
export function powerOff(): void {
  spawn(HELPER_BIN, ['reboot'], { stdio: 'ignore', detached: true }).unref();
}
