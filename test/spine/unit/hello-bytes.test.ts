import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GUEST_HELLO, HOST_HELLO } from '../../../src/shared/ports.js';

/** The C bridge and the host channel must agree on the hello bytes byte for byte. */
function cString(source: string, name: string): string {
  const m = new RegExp(`static const char ${name}\\[\\] = "((?:[^"\\\\]|\\\\.)*)";`).exec(source);
  if (!m?.[1]) throw new Error(`${name} not found in ghostly-helper.c`);
  return m[1].replace(/\\(\d{3}|n|"|\\)/g, (_, e: string) =>
    e === 'n' ? '\n' : e === '"' ? '"' : e === '\\' ? '\\' : String.fromCharCode(parseInt(e, 8)),
  );
}

describe('virtio-serial hello framing', () => {
  const source = readFileSync(new URL('../../../guest-image/ghostly-helper.c', import.meta.url), 'utf8');
  it('uses the same HOST_HELLO and GUEST_HELLO bytes on both sides', () => {
    expect(cString(source, 'HOST_HELLO')).toBe(HOST_HELLO);
    expect(cString(source, 'GUEST_HELLO')).toBe(GUEST_HELLO);
    expect(HOST_HELLO).not.toBe(GUEST_HELLO);
  });
});
