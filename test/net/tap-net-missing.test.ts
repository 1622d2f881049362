/**
 * Where the namespace + TAP network cannot be made, the CLI says exactly what is missing, before anything
 * boots: `doctor`'s --net line for Firecracker, and exit 69 for `--net` on Firecracker and on QEMU with
 * qemu.nat = "tap". The host lacks pasta here (a PATH with everything else).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const bin = mkdtempSync(join(tmpdir(), 'vg-nopasta-'));
for (const tool of ['qemu-system-x86_64', 'qemu-img', 'setpriv', 'unshare', 'nsenter', 'passt'])
  symlinkSync(execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim(), join(bin, tool));
afterAll(() => rmSync(bin, { recursive: true, force: true }));
const env = { PATH: bin };
const said = (r: { code: number | null; stdout: Buffer; stderr: string }): string =>
  `exit ${r.code}\nstdout: ${r.stdout.toString()}\nstderr: ${r.stderr}`;
const NO_PASTA = /pasta is not on PATH \(the user-mode NAT attached to the namespace\): apt-get install passt/;

describe('the namespace + TAP network where pasta is missing', () => {
  it('doctor: the Firecracker --net line names what is missing and the package', async () => {
    const r = await runCli(['doctor'], { env });
    const line = r.stdout
      .toString()
      .split('\n')
      .find((l) => l.startsWith('  firecracker'));
    expect(line, said(r)).toMatch(/unavailable: --net needs a TAP device in a user \+ network namespace: /);
    expect(line).toMatch(NO_PASTA);
    const json = JSON.parse((await runCli(['doctor', '--json'], { env })).stdout.toString()) as {
      net: { firecracker: { ok: boolean; reason: string } };
    };
    expect(json.net.firecracker.ok).toBe(false);
    expect(json.net.firecracker.reason).toMatch(NO_PASTA);
  });

  it('--net on Firecracker: exit 69 before anything boots, naming pasta', async () => {
    const r = await runCli(['exec', '--backend', 'firecracker', '--net', '--', 'true'], { env });
    expect(r.code, said(r)).toBe(69);
    expect(r.stderr).toMatch(NO_PASTA);
    expect(r.stdout.length).toBe(0);
  });

  it('--net with qemu.nat = "tap": exit 69 before anything boots, naming pasta', async () => {
    const r = await runCli(['exec', '--accel', 'tcg', '--net', '--', 'true'], {
      env: { ...env, VIRTUALGHOST_QEMU__NAT: 'tap' },
    });
    expect(r.code, said(r)).toBe(69);
    expect(r.stderr).toMatch(/qemu\.nat = "tap".*pasta is not on PATH/);
    expect(r.stdout.length).toBe(0);
  });
});
