/** The control protocol (shared by host and agent): line splitting and strict frame parsing. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  encodeFrame,
  LineSplitter,
  MAX_CONTROL_LINE,
  parseAgentFrame,
  parseHostFrame,
  type AgentFrame,
  type HostFrame,
} from '../../../src/shared/control.js';
import { ProtocolViolationError } from '../../../src/shared/errors.js';

const stats: AgentFrame = { type: 'stats', cpuPercent: 12.5, memUsedBytes: 1000, memTotalBytes: 4000, uptimeSec: 3.2 };
const hello: AgentFrame = { type: 'agent-hello', protocol: 1, version: '0.1.0', pid: 42, bootId: 'abc', starts: 2 };
const offer: HostFrame = {
  type: 'session',
  clientKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ1c3Rlcg==',
  timeMs: 1_700_000_000_000,
  entropy: randomBytes(8).toString('base64'),
};

describe('LineSplitter', () => {
  it('reassembles frames split at every possible byte boundary, and several frames per chunk', () => {
    const text = encodeFrame(stats) + encodeFrame(hello) + encodeFrame({ type: 'agent-exited' });
    for (let cut = 0; cut <= text.length; cut++) {
      for (const step of [1, 7, text.length]) {
        const s = new LineSplitter();
        const lines = [...s.push(text.slice(0, cut))];
        for (let i = cut; i < text.length; i += step) lines.push(...s.push(text.slice(i, i + step)));
        expect(lines.map(parseAgentFrame)).toEqual([stats, hello, { type: 'agent-exited' }]);
      }
    }
  });

  it('holds back an incomplete line until its newline arrives, and skips empty lines', () => {
    const s = new LineSplitter();
    expect(s.push('{"type":"agent-exi')).toEqual([]);
    expect(s.push('ted"}')).toEqual([]);
    expect(s.push('\n\n\n{"a"')).toEqual(['{"type":"agent-exited"}']);
    expect(s.push(':1}\n')).toEqual(['{"a":1}']);
  });

  it('refuses to buffer a line past MAX_CONTROL_LINE (a peer that never sends a newline)', () => {
    const s = new LineSplitter();
    expect(s.push('x'.repeat(MAX_CONTROL_LINE))).toEqual([]); // exactly the limit: still fine
    expect(() => s.push('x')).toThrow(ProtocolViolationError);
    const t = new LineSplitter();
    expect(() => t.push(`{"ok":1}\n${'y'.repeat(MAX_CONTROL_LINE + 1)}`)).toThrow(/longer than/);
  });

  it('refuses an over-long line that arrives complete in one chunk (the limit does not depend on chunking)', () => {
    const s = new LineSplitter();
    expect(s.push(`${'x'.repeat(MAX_CONTROL_LINE)}\n`)).toHaveLength(1); // exactly the limit: still fine
    expect(() => new LineSplitter().push(`${'y'.repeat(MAX_CONTROL_LINE + 1)}\n`)).toThrow(ProtocolViolationError);
    expect(() => new LineSplitter().push(`{"ok":1}\n${'z'.repeat(MAX_CONTROL_LINE + 1)}\n{"ok":2}\n`)).toThrow(
      /longer than/,
    );
  });
});

describe('frame parsing', () => {
  it('round-trips every frame type through encodeFrame', () => {
    for (const f of [
      stats,
      hello,
      { type: 'agent-exited' },
      { type: 'error', message: 'boom' },
      { type: 'ready', hostKey: offer.clientKey, fingerprint: 'SHA256:x' },
    ] as AgentFrame[]) {
      const line = encodeFrame(f);
      expect(line.endsWith('\n')).toBe(true);
      expect(line.slice(0, -1)).not.toContain('\n');
      expect(parseAgentFrame(line.trimEnd())).toEqual(f);
    }
    expect(parseHostFrame(encodeFrame(offer).trimEnd())).toEqual(offer);
    expect(parseHostFrame('{"type":"poweroff"}')).toEqual({ type: 'poweroff' });
  });

  it('names the field at fault', () => {
    const bad = (line: string, who: (l: string) => unknown = parseAgentFrame): string => {
      try {
        who(line);
      } catch (err) {
        expect(err).toBeInstanceOf(ProtocolViolationError);
        return (err as Error).message;
      }
      throw new Error(`accepted ${line}`);
    };
    expect(bad(JSON.stringify({ ...stats, cpuPercent: 'high' }))).toMatch(/at cpuPercent\b.*number/);
    expect(bad(JSON.stringify({ ...hello, starts: undefined }))).toMatch(/at starts\b/);
    expect(bad(JSON.stringify({ type: 'ready', hostKey: 'ssh-rsa AAAAB3', fingerprint: 'x' }))).toMatch(
      /at hostKey\b.*ssh-ed25519/,
    );
    expect(bad('{"type":"agent-exited","extra":1}')).toMatch(/at extra\b/);
    expect(bad('{"type":"reboot"}')).toMatch(/at type\b/);
    expect(bad('{"type":"stats"')).toMatch(/not JSON/);
    // Host frames are checked as strictly: an agent frame is not a host frame.
    expect(bad(JSON.stringify(stats), parseHostFrame)).toMatch(/the host .* at type/);
    expect(bad(JSON.stringify({ ...offer, clientKey: 'ssh-ed25519 AAAA$$' }), parseHostFrame)).toMatch(
      /at clientKey\b/,
    );
  });
});
