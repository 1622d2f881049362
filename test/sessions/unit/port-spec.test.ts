/** `-p [HOST_IP:]HOST_PORT:GUEST_PORT`: what parses, the loopback default, and what is refused (exit 65, value named). */
import { describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../../src/host/cli/exit-codes.js';
import { formatPort, parsePortSpec, parsePortSpecs, shortPort, validPorts } from '../../../src/host/ports/spec.js';

describe('published port specs', () => {
  it('parses HOST_PORT:GUEST_PORT on 127.0.0.1 by default, an explicit IPv4 and a bracketed IPv6 address', () => {
    expect(parsePortSpec('8080:80')).toEqual({ hostIp: '127.0.0.1', hostPort: 8080, guestPort: 80 });
    expect(parsePortSpec('0.0.0.0:8080:80')).toEqual({ hostIp: '0.0.0.0', hostPort: 8080, guestPort: 80 });
    expect(parsePortSpec('[::1]:65535:1')).toEqual({ hostIp: '::1', hostPort: 65535, guestPort: 1 });
    expect(formatPort(parsePortSpec('[::1]:8080:80'))).toBe('[::1]:8080->80');
    expect(shortPort(parsePortSpec('8080:80'))).toBe('8080->80');
    expect(shortPort(parsePortSpec('0.0.0.0:8080:80'))).toBe('0.0.0.0:8080->80');
  });

  it('refuses malformed specs with a config error (65) that names the value', () => {
    for (const bad of [
      '',
      '80',
      '1:2:3:4',
      'x:80',
      '8080:',
      '0:80',
      '8080:65536',
      '08080080:80',
      'localhost:1:2',
      '::1:1:2',
      '[1.2.3.4]:1:2',
      '1.2.3.4.5:1:2',
      '-1:80',
    ]) {
      let err: unknown;
      try {
        parsePortSpec(bad);
      } catch (e) {
        err = e;
      }
      expect(err, bad).toBeInstanceOf(Error);
      expect(exitCodeFor(err), bad).toBe(65);
      expect((err as Error).message, bad).toContain(`-p ${JSON.stringify(bad)}`);
    }
  });

  it('refuses the same host address and port twice; the same port on two addresses is fine', () => {
    expect(() => parsePortSpecs(['8080:80', '127.0.0.1:8080:81'])).toThrow(/127\.0\.0\.1:8080 is published twice/);
    expect(parsePortSpecs(['8080:80', '0.0.0.0:8080:80'])).toHaveLength(2);
  });

  it('keeps only well-formed entries from a state file', () => {
    expect(
      validPorts([
        { hostIp: '127.0.0.1', hostPort: 1, guestPort: 2 },
        { hostIp: '\x1b[2J', hostPort: 1, guestPort: 2 },
        { hostIp: '::1', hostPort: 0, guestPort: 2 },
        'x',
      ]),
    ).toEqual([{ hostIp: '127.0.0.1', hostPort: 1, guestPort: 2 }]);
    expect(validPorts({})).toEqual([]);
  });
});
