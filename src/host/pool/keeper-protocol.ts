/**
 * The lines a clone keeper (keeper.ts) exchanges, one JSON object per line:
 * - with the pool, over the keeper's stdin (its order, then nothing: EOF means the pool is gone) and
 *   stdout (how the clone is doing);
 * - with a claimer, over KEEPER_SOCKET: `take` with the token the pool handed out, answered `taken`
 *   with what the claimer needs to hold the VM; later `stop`, answered `exited` when the VMM is gone.
 */
import type { ClientKey } from '../ssh/keys.js';
import type { ProcessIdentity } from '../store/process-identity.js';
import type { Accel, VmExit, VmSpec } from '../vm/driver.js';

export interface KeeperOrder {
  /** Proves to the keeper that a claimer was handed this clone by the pool. */
  token: string;
  name: string;
  imageId: string;
  qemuBin: string;
  accel: Accel;
  spec: VmSpec;
  timeoutMs: number;
}

export type KeeperReport =
  { t: 'ready'; vmm: number; readyMs: number } | { t: 'taken' } | { t: 'failed'; message: string };

export type ClaimerLine = { t: 'take'; token: string } | { t: 'stop' };

export interface TakenReply {
  t: 'taken';
  vmm: ProcessIdentity;
  helpers: ProcessIdentity[];
  restoredFrom: string;
  /** The spec the clone runs with (its root disk is the snapshot's). */
  spec: VmSpec;
  /** The dir the VMM was started in, named in its command line (clean's proof after a rename). */
  origin: string;
  /**
   * The session the keeper offered this clone once it was warm — keys made for this claim alone, the
   * clock and fresh entropy — which the claimer attaches to instead of offering one (control.ts `attach`).
   */
  session: PreparedSession;
}

/** A session offered ahead of a claim: the client key the agent accepts and the host key it serves. */
export interface PreparedSession {
  clientKey: ClientKey;
  hostKey: string;
}

export function isPreparedSession(x: unknown): x is PreparedSession {
  const o = x as { clientKey?: { privateKey?: unknown; publicOpenSsh?: unknown }; hostKey?: unknown } | null;
  return (
    typeof o?.hostKey === 'string' &&
    typeof o.clientKey?.privateKey === 'string' &&
    typeof o.clientKey.publicOpenSsh === 'string'
  );
}

export type KeeperReply = TakenReply | { t: 'refused'; message: string } | ({ t: 'exited' } & VmExit);

export const line = (o: unknown): string => `${JSON.stringify(o)}\n`;

/** One line as an object, or undefined: whatever a peer sends that is not JSON is ignored, not trusted. */
export function parseLine(text: string): Record<string, unknown> | undefined {
  try {
    const o: unknown = JSON.parse(text);
    return o !== null && typeof o === 'object' && !Array.isArray(o) ? (o as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
