/**
 * CLI conventions through the real CLI: `version` (and `--version`), `--quiet` (no notices, errors still
 * print) and `--verbose` (boot phase timings) on a real VM, `--json` where scripts want it.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ghostPaths } from '../../src/host/store/paths.js';
import { PRODUCT_VERSION } from '../../src/shared/version.js';
import { BIN, runCli } from '../helpers/cli.js';
import { currentImage } from '../helpers/image.js';

describe('version', () => {
  it('`--version` prints the bare version; `version --json` the facts a bug report needs', async () => {
    const bare = await runCli(['--version']);
    expect(bare.code).toBe(0);
    expect(bare.stdout.toString()).toBe(`${PRODUCT_VERSION}\n`);
    // package.json is the version's one home; version.ts is its copy for the bundled agent (`npm version` syncs it).
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(PRODUCT_VERSION).toBe(pkg.version);
    expect(pkg.version).toMatch(/^0\.\d+\.\d+$/);

    const r = await runCli(['version', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const v = JSON.parse(r.stdout.toString()) as Record<string, unknown>;
    expect(v).toMatchObject({
      version: PRODUCT_VERSION,
      node: process.version,
      installForm: 'checkout',
      backends: ['qemu', 'firecracker'],
    });
    expect(v['qemu']).toMatch(/^QEMU emulator version \d+\.\d+/);
    // The id the current recipe gives is the image every VM of this run boots.
    expect(v['imageRecipeId']).toBe((await currentImage()).id);

    const text = await runCli(['version']);
    expect(text.stdout.toString()).toMatch(new RegExp(`^virtualghost +${PRODUCT_VERSION.replace(/\./g, '\\.')}$`, 'm'));
    expect(text.stdout.toString()).toMatch(/^image recipe +[0-9a-f]{16}$/m);
  });

  it('still answers with a broken config file (that is when one files a bug)', async () => {
    const r = await runCli(['version', '--json'], { env: { VIRTUALGHOST_VCPUS: 'many' } });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.toString())).toMatchObject({ version: PRODUCT_VERSION });
  });
});

describe('--quiet and --verbose on a real VM', () => {
  it('--verbose prints boot phases with timings, --quiet prints nothing but the guest output, default no phases', async () => {
    const plain = await runCli(['exec', '--', 'echo', 'hi']);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout.toString()).toBe('hi\n');
    expect(plain.stderr).not.toMatch(/phase/);

    const verbose = await runCli(['--verbose', 'exec', '--', 'echo', 'hi']);
    expect(verbose.code, verbose.stderr).toBe(0);
    expect(verbose.stdout.toString()).toBe('hi\n');
    for (const phase of ['booting', 'ssh', 'ready'])
      expect(verbose.stderr).toMatch(new RegExp(`^virtualghost: \\[\\d+\\.\\d+s\\] phase ${phase}$`, 'm'));

    // Global flags go anywhere before `--`, and --quiet beats --verbose and VIRTUALGHOST_DEBUG.
    const quiet = await runCli(['exec', '--quiet', '--verbose', '--', 'echo', 'hi'], {
      env: { VIRTUALGHOST_DEBUG: '1' },
    });
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stdout.toString()).toBe('hi\n');
    expect(quiet.stderr).toBe('');
  });

  it('--quiet keeps errors', async () => {
    const r = await runCli(['--quiet', 'config', 'get', 'vcpu']);
    expect(r.code).toBe(65);
    expect(r.stderr).toMatch(/unknown key `vcpu` — did you mean `vcpus`/);
  });
});

describe('--json where a script wants it', () => {
  it('config path / get / show, image ls / build, doctor, version all print one parseable JSON document', async () => {
    for (const args of [
      ['config', 'path', '--json'],
      ['config', 'get', 'memory', '--json'],
      ['config', 'show', '--json'],
      ['image', 'ls', '--json'],
      ['image', 'build', '--json'],
      ['doctor', '--json'],
      ['version', '--json'],
    ]) {
      const r = await runCli(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(() => JSON.parse(r.stdout.toString()), args.join(' ')).not.toThrow();
    }
  });
});

describe('a reader that goes away (`| head`)', () => {
  /** Runs the CLI and closes its stdout pipe as `head` does: after the first chunk, or before any. */
  const closeEarly = (args: string[], before = false): Promise<{ code: number | null; stderr: string }> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      if (before) child.stdout.destroy();
      else child.stdout.once('data', () => child.stdout.destroy());
      child.on('close', (code) => resolve({ code, stderr }));
    });

  it('a printing verb ends quietly with 0, no stack trace', async () => {
    // Closed before the CLI writes: its first write fails with EPIPE (a small output would otherwise fit in the pipe).
    const r = await closeEarly(['completion', 'bash'], true);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('exec tears its VM down and ends (instead of the guest blocking on a full channel)', async () => {
    const r = await closeEarly(['--quiet', 'exec', '--', 'seq', '1', '2000000']);
    expect(r.code, r.stderr).toBe(143);
    expect(r.stderr).toBe('');
    expect(existsSync(ghostPaths().vmsDir) ? readdirSync(ghostPaths().vmsDir) : []).toEqual([]);
  });
});
