/**
 * Shared folders on QEMU: one virtio-9p device per slot, each exporting one host dir (fsdev `local`).
 *
 * - `security_model=none`: QEMU creates files as the user it runs as, with the modes the guest asks
 *   for, and ignores the guest's chown (so a file made by guest root is the invoking user's, never
 *   root's). Symlinks the guest makes are real symlinks on the host; QEMU's local backend itself never
 *   follows one: it walks every path component with openat(O_NOFOLLOW) below the export's root fd (QEMU
 *   ≥ 2.9, CVE-2016-9602), so a guest cannot reach outside the dir through a link or `..`.
 * - `readonly=on` for `:ro`: QEMU refuses every write with EROFS, whatever the guest's mount options (a
 *   root guest can `mount -o remount,rw`; the export stays read-only).
 * - `multidevs=remap`: a dir spanning several host file systems keeps distinct inode numbers in the guest.
 *
 * Why 9p and not virtio-fs: virtiofsd needs the guest's RAM shared with it (memfd/file, share=on), and a
 * warm clone maps its template's RAM copy-on-write (share=off): a clone could not use virtio-fs at all.
 * 9p needs nothing of guest RAM, so a template carries MOUNT_SLOTS idle devices (never mounted there,
 * which QEMU requires for migration) and a clone's devices get the real dirs (README: Mounts, measured).
 */
import { mountTag } from '../../shared/mounts.js';
import type { MountSpec } from './mount-spec.js';

/** A value inside a QEMU `key=value,...` option: a comma is written twice. */
const optionValue = (value: string): string => value.replaceAll(',', ',,');

/**
 * QEMU arguments for `slots` 9p devices: slot i exports mounts[i], the rest an empty read-only dir
 * (`idleDir`) that nothing mounts. Throws if there are more mounts than slots.
 */
export function ninePArgs(mounts: readonly MountSpec[], slots: number, idleDir: string): string[] {
  if (mounts.length > slots) throw new RangeError(`${mounts.length} mounts but only ${slots} shared-folder slots`);
  const args: string[] = [];
  for (let i = 0; i < slots; i++) {
    const m = mounts[i];
    const fsdev = [
      'local',
      `id=vgfs${i}`,
      `path=${optionValue(m?.host ?? idleDir)}`,
      'security_model=none',
      'multidevs=remap',
      ...(m && !m.readonly ? [] : ['readonly=on']),
    ];
    args.push('-fsdev', fsdev.join(','), '-device', `virtio-9p-device,fsdev=vgfs${i},mount_tag=${mountTag(i)}`);
  }
  return args;
}
