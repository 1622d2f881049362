/** probe(): each reason the backend cannot run, with a remedy; never throws. */
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FirecrackerDriverFactory } from '../../src/host/vm/firecracker/driver.js';
import { parseFirecrackerVersion } from '../../src/host/vm/firecracker/version.js';
import { FAKE_FC, makeSandbox, type Sandbox } from './helpers.js';

let sb: Sandbox;
let kvm: string;
beforeEach(async () => {
  sb = await makeSandbox();
  kvm = join(sb.root, 'kvm'); // a stand-in device node we can make (in)accessible
  await writeFile(kvm, '');
});
afterEach(async () => {
  await sb.cleanup();
});

describe('FirecrackerDriverFactory.probe', () => {
  it('ok with a recent binary and accessible KVM when the run check is off', async () => {
    const r = await sb.factory({ kvmDevice: kvm }).probe();
    expect(r).toEqual({ ok: true, accel: 'kvm', notice: expect.stringContaining('kvm_check') });
  });

  it('names a missing binary', async () => {
    const r = await new FirecrackerDriverFactory({ bin: join(sb.root, 'nope'), kvmCheck: false }).probe();
    expect(r).toMatchObject({ ok: false, reason: expect.stringContaining('nope') });
    expect(r.ok === false && r.remedy).toContain('firecracker.bin');
  });

  it('rejects a version older than 1.8', async () => {
    const r = await sb.factory({ kvmDevice: kvm }, { FAKE_FC_VERSION: '1.7.0' }).probe();
    expect(r).toMatchObject({ ok: false, reason: expect.stringMatching(/1\.7\.0 .*too old.*1\.8\.0/) });
  });

  it('rejects a binary that does not print a Firecracker version', async () => {
    const bogus = join(sb.root, 'firecracker');
    await writeFile(bogus, '#!/bin/sh\necho hello\n');
    await chmod(bogus, 0o755);
    const r = await new FirecrackerDriverFactory({ bin: bogus, kvmCheck: false, kvmDevice: kvm }).probe();
    expect(r).toMatchObject({ ok: false, reason: expect.stringContaining('--version') });
  });

  it('reports a missing /dev/kvm', async () => {
    const r = await sb.factory({ kvmDevice: join(sb.root, 'no-kvm') }).probe();
    expect(r).toMatchObject({ ok: false, reason: expect.stringContaining('does not exist') });
  });

  it.skipIf(process.getuid?.() === 0)('reports a /dev/kvm this user cannot open', async () => {
    await chmod(kvm, 0o000);
    const r = await sb.factory({ kvmDevice: kvm }).probe();
    expect(r).toMatchObject({ ok: false, reason: expect.stringContaining('cannot read and write') });
  });

  it('with kvmCheck on, a VMM that cannot run the test guest makes the probe fail fast with the reason', async () => {
    const t0 = Date.now();
    const r = await sb.factory({ kvmDevice: kvm, kvmCheck: true }).probe();
    // The stand-in has no --config-file boot (it is not a VMM): the check must say no, not hang.
    expect(r).toMatchObject({ ok: false, reason: expect.stringContaining('could not run a test guest') });
    expect(Date.now() - t0).toBeLessThan(3_000);
  });

  it('parses real `firecracker --version` output', () => {
    expect(parseFirecrackerVersion('Firecracker v1.16.1\n\nSupported snapshot data format versions: v8.0.0\n')).toEqual(
      { major: 1, minor: 16, patch: 1 },
    );
    expect(parseFirecrackerVersion('firecracker 1.16')).toBeUndefined();
    expect(FAKE_FC).toMatch(/fake-firecracker\.mjs$/);
  });
});
