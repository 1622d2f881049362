/**
 * The control stream ("sideband"): newline-delimited JSON frames, one object per line.
 *
 * On every new connection the agent says `agent-hello`; the host sends `session` (the per-session client
 * key, wall-clock time, fresh entropy, maybe a host key) without waiting for it, since the bridge holds it
 * until the agent listens; the agent applies it and answers `ready` with the host key the host then pins. After that the agent streams `stats` once a second.
 * The guest bridge itself writes `agent-exited` if the agent dies while the host is connected; the
 * restarted agent then says `agent-hello` again on the same host connection.
 */
import * as v from 'valibot';
import { ProtocolViolationError } from './errors.js';
import { MOUNT_TAG_PATTERN } from './mounts.js';

/** The agent logs this on the console once a template's session has ended and SSH is held (the host's snapshot code waits for it). */
export const SSH_HELD_LOG = 'template session ended: SSH held until the next session';

/** A line longer than this is a protocol violation, not something to buffer forever. */
export const MAX_CONTROL_LINE = 64 * 1024;

const openSshEd25519 = v.pipe(
  v.string(),
  v.regex(/^ssh-ed25519 [A-Za-z0-9+/]+={0,2}( \S*)?$/, 'an OpenSSH ssh-ed25519 public key'),
);

export const AgentHello = v.strictObject({
  type: v.literal('agent-hello'),
  protocol: v.number(),
  version: v.string(),
  pid: v.number(),
  bootId: v.string(),
  /** How often the supervisor has (re)started the agent since boot: > 1 means it crashed and came back. */
  starts: v.number(),
});
export const SessionOffer = v.strictObject({
  type: v.literal('session'),
  clientKey: openSshEd25519,
  /** Host wall clock, ms since the epoch: the guest has no RTC worth trusting (and is behind after a restore). */
  timeMs: v.number(),
  /** Base64 bytes mixed into the guest's entropy pool (clones of one snapshot must diverge). */
  entropy: v.string(),
  /**
   * The host key to serve from now on, made by the host (a snapshot's clone and its template): clones must
   * not share one, and the host can then verify SSH in parallel with this offer instead of waiting to learn
   * the key. Without it the agent keeps its own (generated at its first start), which `ready` reports.
   */
  hostKey: v.optional(
    v.strictObject({
      privatePem: v.pipe(v.string(), v.startsWith('-----BEGIN OPENSSH PRIVATE KEY-----')),
      publicOpenSsh: openSshEd25519,
    }),
  ),
  /**
   * A snapshot template's session: once this control connection closes, the agent holds every SSH
   * connection until the next session offer is applied, so a clone never answers SSH with its template's
   * keys or clock, however early its host connects.
   */
  template: v.optional(v.boolean()),
  /** Shared folders to mount before SSH is served (shared/mounts.ts); already-mounted paths are left as they are. */
  mounts: v.optional(
    v.array(
      v.strictObject({
        tag: v.pipe(v.string(), v.regex(MOUNT_TAG_PATTERN, 'a mount tag vgmountN')),
        path: v.pipe(v.string(), v.regex(/^\/[^\0]*$/, 'an absolute path')),
        readonly: v.boolean(),
      }),
    ),
  ),
});
export const Ready = v.strictObject({
  type: v.literal('ready'),
  hostKey: openSshEd25519,
  fingerprint: v.string(),
});
export const Stats = v.strictObject({
  type: v.literal('stats'),
  cpuPercent: v.number(),
  memUsedBytes: v.number(),
  memTotalBytes: v.number(),
  uptimeSec: v.number(),
});
export const AgentError = v.strictObject({ type: v.literal('error'), message: v.string() });
export const AgentExited = v.strictObject({ type: v.literal('agent-exited') });
export const Poweroff = v.strictObject({ type: v.literal('poweroff') });
/**
 * Takes over the session in force instead of offering one: answered with `ready` (the host key in force)
 * and stats, or an error when no session offered since this boot (and not a template's) is in force. A
 * standby pool's keeper offers each clone its fresh session ahead of a claim; the claimer attaches.
 */
export const Attach = v.strictObject({ type: v.literal('attach') });

export const AgentFrame = v.variant('type', [AgentHello, Ready, Stats, AgentError, AgentExited]);
export const HostFrame = v.variant('type', [SessionOffer, Poweroff, Attach]);

export type AgentHello = v.InferOutput<typeof AgentHello>;
export type SessionOffer = v.InferOutput<typeof SessionOffer>;
export type Ready = v.InferOutput<typeof Ready>;
export type Stats = v.InferOutput<typeof Stats>;
export type AgentFrame = v.InferOutput<typeof AgentFrame>;
export type HostFrame = v.InferOutput<typeof HostFrame>;

function parseWith<S extends v.GenericSchema>(schema: S, line: string, who: string): v.InferOutput<S> {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (err) {
    throw new ProtocolViolationError(
      `${who} sent a control line that is not JSON: ${JSON.stringify(line.slice(0, 80))}`,
      { cause: err },
    );
  }
  const result = v.safeParse(schema, json);
  if (!result.success) {
    const issue = result.issues[0];
    const where = issue?.path?.map((p) => String(p.key)).join('.') ?? '(frame)';
    throw new ProtocolViolationError(
      `${who} sent an invalid control frame at ${where}: ${issue?.message ?? 'unknown'}`,
    );
  }
  return result.output;
}

export const parseAgentFrame = (line: string): AgentFrame => parseWith(AgentFrame, line, 'the guest agent');
export const parseHostFrame = (line: string): HostFrame => parseWith(HostFrame, line, 'the host');

export function encodeFrame(frame: AgentFrame | HostFrame): string {
  return `${JSON.stringify(frame)}\n`;
}

/**
 * Splits decoded text (callers set the stream's encoding to utf8, which handles characters split across
 * chunks) into lines; refuses to buffer a line past MAX_CONTROL_LINE. Pure, so both sides share it.
 */
export class LineSplitter {
  private pending = '';

  push(text: string): string[] {
    this.pending += text;
    const lines = this.pending.split('\n');
    this.pending = lines.pop() ?? '';
    // Complete lines count too: an over-long line that arrives whole in one chunk is as much a violation
    // as one still being buffered, so the limit must not depend on how the stream was chunked.
    if (this.pending.length > MAX_CONTROL_LINE || lines.some((l) => l.length > MAX_CONTROL_LINE)) {
      this.pending = '';
      throw new ProtocolViolationError(`control line longer than ${MAX_CONTROL_LINE} bytes`);
    }
    return lines.filter((l) => l.length > 0);
  }
}
