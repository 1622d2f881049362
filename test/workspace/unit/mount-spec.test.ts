/** The mount syntax and guest-path rules (workspace/mount-spec.ts) and the 9p command line (qemu-9p.ts), pure. */
import { homedir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { absoluteMountText, parseMounts } from '../../../src/host/workspace/mount-spec.js';
import { ninePArgs } from '../../../src/host/workspace/qemu-9p.js';

describe('mount specs', () => {
  it('parses -v strings and [[mounts]] tables into absolute host and normalized guest paths', () => {
    expect(
      parseMounts(
        ['src:/work/', '~/data:/data:ro', '/abs:/x//y:rw', { host: '/t', guest: '/t', readonly: true }],
        '/cwd',
      ),
    ).toEqual([
      { host: '/cwd/src', guest: '/work', readonly: false },
      { host: `${homedir()}/data`, guest: '/data', readonly: true },
      { host: '/abs', guest: '/x/y', readonly: false },
      { host: '/t', guest: '/t', readonly: true },
    ]);
  });

  it.each([
    [['/a:work'], /not an absolute path/],
    [['/a:/work/../etc'], /contains `\.\.`/],
    [['/a:/'], /root dir/],
    [['/a:/proc'], /under \/proc/],
    [['/a:/sys/fs'], /under \/sys/],
    [['/a:/dev'], /under \/dev/],
    [['/a:/w', '/b:/w/'], /mounted twice/],
    [['/a'], /expected HOST_DIR:GUEST_DIR/],
    [['/a:/w:rx'], /expected HOST_DIR:GUEST_DIR/],
    [[':/w'], /host dir is empty/],
    [[{ host: 'rel', guest: '/w' }], /relative; in the config file/],
    [[{ host: '/a', guest: '/w', mode: 'ro' }], /unknown key mode/],
    [[{ host: '/a', guest: '/w', readonly: 'yes' }], /readonly must be true or false/],
  ])('refuses %j', (entries, message) => {
    expect(() => parseMounts(entries, '/cwd')).toThrow(message);
  });

  it('makes a relative -v host dir absolute in the command that got it', () => {
    expect(absoluteMountText('src:/work:ro', '/here')).toBe('/here/src:/work:ro');
    expect(absoluteMountText('~/x:/w', '/here')).toBe('~/x:/w');
    expect(absoluteMountText('/x:/w', '/here')).toBe('/x:/w');
  });
});

describe('9p arguments', () => {
  it('one device per slot; ro and idle slots are readonly=on; no model that chowns or maps', () => {
    const args = ninePArgs(
      [
        { host: '/h/a,b', guest: '/w', readonly: false },
        { host: '/h/r', guest: '/r', readonly: true },
      ],
      3,
      '/vm/idle',
    );
    expect(args).toEqual([
      '-fsdev',
      'local,id=vgfs0,path=/h/a,,b,security_model=none,multidevs=remap',
      '-device',
      'virtio-9p-device,fsdev=vgfs0,mount_tag=vgmount0',
      '-fsdev',
      'local,id=vgfs1,path=/h/r,security_model=none,multidevs=remap,readonly=on',
      '-device',
      'virtio-9p-device,fsdev=vgfs1,mount_tag=vgmount1',
      '-fsdev',
      'local,id=vgfs2,path=/vm/idle,security_model=none,multidevs=remap,readonly=on',
      '-device',
      'virtio-9p-device,fsdev=vgfs2,mount_tag=vgmount2',
    ]);
    expect(() => ninePArgs([{ host: '/a', guest: '/a', readonly: false }], 0, '/i')).toThrow(/only 0/);
  });
});
