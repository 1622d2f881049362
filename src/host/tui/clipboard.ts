/**
 * OSC 52 clipboard writes, gated by the policy. "ask" holds the latest request and shows a prompt
 * in the status line; the user allows it with the prefix key then `y` (or `Y` for the rest of the
 * session). Answering through the prefix means a guest can never get consent from ordinary typing.
 * Requests to read the host clipboard are refused earlier, in the Screen, whatever the policy.
 */
import type { ClipboardRequest } from './screen.js';
import type { ClipboardPolicy } from './types.js';

const ASK_TIMEOUT_MS = 30_000;

export function osc52(req: ClipboardRequest): string {
  return `\x1b]52;${req.selection};${req.base64}\x07`;
}

export function base64Bytes(b64: string): number {
  return Math.floor((b64.length * 3) / 4) - (b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0);
}

export class ClipboardGate {
  private pending: { req: ClipboardRequest; at: number } | undefined;

  constructor(private policy: ClipboardPolicy) {}

  /** What to do with a guest request: forward it now, drop it, or wait for the user. */
  request(req: ClipboardRequest, now: number): 'forward' | 'drop' | 'ask' {
    if (this.policy === 'allow') return 'forward';
    if (this.policy === 'deny') return 'drop';
    this.pending = { req, at: now };
    return 'ask';
  }

  /** The user said yes: the request to forward, if one is still pending. */
  allow(always: boolean, now: number): ClipboardRequest | undefined {
    const p = this.question(now) ? this.pending : undefined;
    this.pending = undefined;
    if (always) this.policy = 'allow';
    return p?.req;
  }

  /** A user-initiated copy (copy mode) is consent itself, unless the policy is deny. */
  get userCopyAllowed(): boolean {
    return this.policy !== 'deny';
  }

  /** The pending question's size in bytes, if any (expires after 30 s). */
  question(now: number): number | undefined {
    if (this.pending && now - this.pending.at > ASK_TIMEOUT_MS) this.pending = undefined;
    return this.pending ? base64Bytes(this.pending.req.base64) : undefined;
  }
}
