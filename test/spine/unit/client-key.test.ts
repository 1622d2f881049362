/** Every client key we generate is one ssh2 can load (ssh2 1.17 cannot parse ~0.4% of the ed25519 keys its own generator makes). */
import ssh2 from 'ssh2';
import { describe, expect, it } from 'vitest';
import { generateClientKey } from '../../../src/host/ssh/keys.js';

describe('generateClientKey', () => {
  it('gives 2000 keys in a row that ssh2 parses, each with a matching public line', () => {
    for (let i = 0; i < 2000; i++) {
      const key = generateClientKey();
      const parsed = ssh2.utils.parseKey(key.privateKey);
      expect(parsed).not.toBeInstanceOf(Error);
      const pub = (parsed as ssh2.ParsedKey).getPublicSSH().toString('base64');
      expect(key.publicOpenSsh).toBe(`ssh-ed25519 ${pub}`);
    }
  });
});
