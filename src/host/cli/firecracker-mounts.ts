/**
 * Firecracker has no shared file system, so there a `-v HOST:GUEST[:ro]` of a throw-away `run` or `exec`
 * is a copy made at start and reviewed at the end, exactly as `--review HOST:GUEST` (review/spec.ts
 * reviewForMount: read-only ones are copied in and never applied). QEMU (and `backend = "auto"`, which
 * picks QEMU for mounts) shares the dir over 9p instead. Named VMs on Firecracker refuse mounts (select.ts).
 */
import type { ReviewSpec } from '../review/spec.js';
import { firecrackerMountNotice, reviewForMount } from '../review/spec.js';
import { resolveMounts } from '../workspace/mount-check.js';
import type { CliContext } from './context.js';
import { ReviewInvalidError } from '../review/errors.js';

export function firecrackerMountReviews(
  ctx: CliContext,
  review: ReviewSpec | undefined,
  onNotice: (line: string) => void,
): { ctx: CliContext; reviews: ReviewSpec[] } {
  const given = review ? [review] : [];
  if (ctx.config.values.backend !== 'firecracker' || ctx.config.values.mounts.length === 0)
    return { ctx, reviews: given };
  const mounts = resolveMounts(ctx.config); // a missing host dir: exit 65 before any VM boots
  const reviews = [...given, ...mounts.map((m) => reviewForMount(m, review?.onExit))];
  const guests = reviews.map((r) => r.guestDir);
  const twice = guests.find((g, i) => guests.indexOf(g) !== i);
  if (twice !== undefined)
    throw new ReviewInvalidError(`${twice} is given twice (--review and -v copy into it); give each its own guest dir`);
  onNotice(firecrackerMountNotice(mounts));
  // The session itself then has no mounts: select.ts would refuse them on Firecracker.
  const values = { ...ctx.config.values, mounts: [] };
  return { ctx: { ...ctx, config: { ...ctx.config, values } }, reviews };
}
