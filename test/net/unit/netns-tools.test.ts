/**
 * What the namespace + TAP network (Firecracker's `--net`) needs of the host, said exactly: each missing
 * tool with its Debian package, /dev/net/tun, and (tried for real) an unprivileged user + network
 * namespace. The CLI side — `doctor` and a refused `--net` start — is in tap-net-missing.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { netnsMissing } from '../../../src/host/net/netns-tools.js';

const bin = mkdtempSync(join(tmpdir(), 'vg-netns-tools-'));
afterAll(() => rmSync(bin, { recursive: true, force: true }));
const link = (tool: string): void =>
  symlinkSync(execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim(), join(bin, tool));

describe('netnsMissing', () => {
  it('on this host: nothing is missing (a real user + network namespace was made)', () => {
    expect(netnsMissing()).toEqual([]);
  });

  it('names each missing tool and the package that has it', () => {
    link('unshare');
    // ip and sysctl are found in sbin even when PATH lacks it; pasta and nsenter are not here.
    const missing = netnsMissing({ pathEnv: bin });
    expect(missing).toEqual([
      expect.stringMatching(
        /^nsenter is not on PATH \(starts the VMM inside that namespace\): apt-get install util-linux$/,
      ),
      expect.stringMatching(/^pasta is not on PATH \(.*\): apt-get install passt$/),
    ]);
  });

  it('a TUN device that cannot be opened is named, with the fix', () => {
    const missing = netnsMissing({ tunDevice: join(bin, 'no-tun') });
    expect(missing).toEqual([
      expect.stringMatching(/no-tun cannot be opened for reading and writing \(ENOENT\).*modprobe tun/),
    ]);
  });
});
