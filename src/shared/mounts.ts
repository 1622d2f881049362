/**
 * Shared folders (`-v HOST_DIR:GUEST_DIR[:ro]`) as both sides see them. The host's VMM exports each host
 * dir as a numbered device slot with a fixed tag; the session offer tells the agent which tag to mount
 * where, so a warm snapshot's clone (whose template had the same slots, idle) mounts them exactly as a
 * cold boot does, before the first shell.
 */

/**
 * Shared-folder device slots on QEMU. A snapshot template carries this many idle ones (never mounted in
 * it, so QEMU allows the migration), and a clone gets its real dirs in them; more mounts than this boot cold.
 */
export const MOUNT_SLOTS = 8;

/** The 9p mount tag of slot `index` (0-based). */
export const mountTag = (index: number): string => `vgmount${index}`;

/** One mount the agent makes: a tag of ours, an absolute guest path and whether it is read-only. */
export interface GuestMount {
  readonly tag: string;
  readonly path: string;
  readonly readonly: boolean;
}

/** A mount_tag the agent accepts from an offer: only ours (vgmount0…), never a path or mount option. */
export const MOUNT_TAG_PATTERN = /^vgmount[0-9]{1,2}$/;
