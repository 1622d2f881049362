/**
 * Doctor per install form, through the real CLI of this checkout: it names the form and, on a host that
 * lacks the Debian packages, lists each with why and gives the one apt-get command that installs them.
 * The install-form marker is checked on a real copy of the package layout without sources.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { installForm } from '../../src/host/install/form.js';
import { hostPackages } from '../../src/host/install/host-packages.js';
import { BIN } from '../helpers/cli.js';
import { runTool } from '../helpers/run-tool.js';

const REPO = join(import.meta.dirname, '..', '..');

describe('doctor: the install form and what the host lacks for it', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('a checkout is told so; a package layout without sources is an npm package', () => {
    expect(installForm(REPO)).toBe('checkout');
    const pkg = mkdtempSync(join(tmpdir(), 'vg-form-'));
    dirs.push(pkg);
    cpSync(join(REPO, 'package.json'), join(pkg, 'package.json'));
    cpSync(join(REPO, 'host-packages.json'), join(pkg, 'host-packages.json'));
    expect(installForm(pkg)).toBe('npm-package');
  });

  it('with none of the tools on PATH, doctor lists every package (test tools too, in a checkout) and the exact command', async () => {
    // node by absolute path, PATH pointing nowhere: doctor also looks in sbin, so drop only what sbin lacks.
    const r = await runTool(process.execPath, [BIN, 'doctor', '--json'], { cwd: '/', env: { PATH: '/nonexistent' } });
    const report = JSON.parse(r.stdout.toString()) as {
      install: { form: string; missing: Array<{ package: string }>; command: string };
    };
    expect(report.install.form).toBe('checkout');
    const missing = report.install.missing.map((p) => p.package);
    for (const pkg of ['qemu-system-x86', 'qemu-utils', 'mmdebstrap', 'gcc', 'passt', 'tmux', 'openssh-client'])
      expect(missing).toContain(pkg);
    const install = `apt-get install -y --no-install-recommends ${[...new Set(missing)].join(' ')}`;
    expect(report.install.command).toContain(install);
    expect(report.install.command).toMatch(
      process.getuid?.() === 0
        ? /^apt-get update && apt-get install/
        : /^sudo sh -c 'apt-get update && apt-get install/,
    );

    const text = await runTool(process.execPath, [BIN, 'doctor'], { cwd: '/', env: { PATH: '/nonexistent' } });
    expect(text.stdout.toString()).toMatch(/^install +source checkout \(/m);
    expect(text.stdout.toString()).toMatch(
      /missing mmdebstrap \(Debian package mmdebstrap, needed for building the guest image\): builds the guest root filesystem/,
    );
    expect(text.stdout.toString()).toContain(`→ ${report.install.command}`);
  });

  it('on this host (set up by npm test) nothing is missing, and the list is well-formed', async () => {
    expect(hostPackages(REPO).length).toBeGreaterThan(10);
    const r = await runTool(process.execPath, [BIN, 'doctor', '--json'], { cwd: '/' });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.toString())).toMatchObject({
      install: { form: 'checkout', missing: [], command: null },
    });
  });
});
