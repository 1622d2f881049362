/**
 * `virtualghost exec` as a user runs it: each case boots its own throw-away VM through the real CLI.
 * The cases run three at a time (each VM is mostly single-threaded under TCG).
 */
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { currentImage } from '../helpers/image.js';
import { limit } from '../helpers/limit.js';

const slot = limit(3);
const exec = (argv: string[], stdin?: string) =>
  slot(() => runCli(['exec', '--accel', 'tcg', '--', ...argv], stdin !== undefined ? { stdin } : {}));

/** A message for failed expectations: what the CLI said. */
const said = (r: { code: number | null; stdout: Buffer; stderr: string }): string =>
  `exit ${r.code}\nstdout: ${r.stdout.toString()}\nstderr: ${r.stderr}`;

describe.concurrent('exec through the CLI', { concurrent: true }, () => {
  it('`true` exits 0 with no output', async () => {
    const r = await exec(['true']);
    expect(r.code, said(r)).toBe(0);
    expect(r.stdout.length).toBe(0);
  });

  it("passes the command's own exit status through (`exit 7` → 7)", async () => {
    const r = await exec(['sh', '-c', 'exit 7']);
    expect(r.code, said(r)).toBe(7);
  });

  it('a command killed by SIGTERM exits 128+15', async () => {
    const r = await exec(['sh', '-c', 'kill -TERM $$']);
    expect(r.code, said(r)).toBe(143);
  });

  it("`uname -r` prints the guest kernel release (the image's, not the host's)", async () => {
    const [r, image] = await Promise.all([exec(['uname', '-r']), currentImage()]);
    expect(r.code, said(r)).toBe(0);
    expect(r.stdout.toString()).toBe(`${image.manifest.kernelRelease}\n`);
  });

  it('keeps stdout and stderr separate, byte for byte', async () => {
    // Computed in the guest, so the expected text cannot come from echoing our own argv.
    const r = await exec(['sh', '-c', 'echo out-$((6*7)); echo err-$((6*8)) >&2; printf "\\001\\377\\000" ; exit 3']);
    expect(r.code, said(r)).toBe(3);
    expect(r.stdout).toEqual(Buffer.concat([Buffer.from('out-42\n'), Buffer.from([1, 255, 0])]));
    expect(r.stderr).toContain('err-48\n');
    expect(r.stderr).not.toContain('out-42');
    expect(r.stdout.toString()).not.toContain('err-48');
  });

  it("pipes stdin through (`printf 'a\\nb\\n' | exec -- wc -l` prints 2)", async () => {
    const r = await exec(['wc', '-l'], 'a\nb\n');
    expect(r.code, said(r)).toBe(0);
    expect(r.stdout.toString().trim()).toBe('2');
  });
});
