/**
 * A guest image for CLI runs against the Firecracker stand-in, which never reads the kernel or disk: small
 * files in a private images dir (`<cacheHome>/virtualghost/images/<id>/`), with a manifest whose sizes
 * match them. Safe to delete with its temp dir; the real shared image cache is never touched.
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const STANDIN_IMAGE_ID = 'fc00fc00fc00fc02';

export function writeStandinImage(cacheHome: string): string {
  const dir = join(cacheHome, 'virtualghost', 'images', STANDIN_IMAGE_ID);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'vmlinux'), 'stand-in kernel');
  writeFileSync(join(dir, 'initrd.img'), 'stand-in initrd');
  writeFileSync(join(dir, 'rootfs.ext4'), 'stand-in root fs');
  const size = (f: string): number => statSync(join(dir, f)).size;
  writeFileSync(
    join(dir, 'manifest.json'),
    JSON.stringify({
      id: STANDIN_IMAGE_ID,
      recipe: {},
      kernelRelease: 'stand-in',
      createdAt: new Date().toISOString(),
      buildSeconds: 0,
      bytes: { vmlinux: size('vmlinux'), initrd: size('initrd.img'), rootfsApparent: size('rootfs.ext4') },
    }),
  );
  return STANDIN_IMAGE_ID;
}
