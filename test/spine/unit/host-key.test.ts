import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { describe, expect, it } from 'vitest';
import { ed25519FromSeed } from '../../../src/shared-node/openssh-ed25519.js';

describe('agent host keys from kernel randomness', () => {
  it('builds an OpenSSH-format Ed25519 key that ssh2 signs with and OpenSSH ssh-keygen reads', () => {
    const k = ed25519FromSeed(randomBytes(32), randomBytes(4), 'test');
    const parsed = ssh2.utils.parseKey(k.privatePem);
    if (parsed instanceof Error || Array.isArray(parsed)) throw new Error('ssh2 could not parse the key');
    const pub = ssh2.utils.parseKey(k.publicOpenSsh);
    if (pub instanceof Error || Array.isArray(pub)) throw new Error('ssh2 could not parse the public key');
    expect(pub.verify(Buffer.from('data'), parsed.sign(Buffer.from('data')))).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'vg-key-'));
    try {
      writeFileSync(join(dir, 'k'), k.privatePem, { mode: 0o600 });
      expect(
        execFileSync('ssh-keygen', ['-y', '-f', join(dir, 'k')], { encoding: 'utf8' })
          .trim()
          .split(' ')
          .slice(0, 2)
          .join(' '),
      ).toBe(k.publicOpenSsh);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('different seeds give different keys; the same seed the same key', () => {
    const seed = randomBytes(32);
    const check = randomBytes(4);
    expect(ed25519FromSeed(seed, check, 'test').publicOpenSsh).toBe(ed25519FromSeed(seed, check, 'test').publicOpenSsh);
    expect(ed25519FromSeed(randomBytes(32), check, 'test').publicOpenSsh).not.toBe(
      ed25519FromSeed(seed, check, 'test').publicOpenSsh,
    );
  });
});
