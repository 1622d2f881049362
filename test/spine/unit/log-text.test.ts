import { describe, expect, it } from 'vitest';
import { LogTextEscaper } from '../../../src/host/cli/log-text.js';

const through = (chunks: Array<string | Buffer>): string => {
  const e = new LogTextEscaper();
  return chunks.map((c) => e.write(Buffer.isBuffer(c) ? c : Buffer.from(c, 'utf8'))).join('') + e.end();
};

describe('LogTextEscaper', () => {
  it('escapes controls, keeps newlines and tabs, turns CR LF into LF', () => {
    expect(through(['a\x1b[2J\tb\r\nc\x07\n'])).toBe('a\\x1b[2J\tb\nc\\x07\n');
  });

  it('a CR LF or a UTF-8 character split across chunks comes out as if whole; a lone CR is escaped', () => {
    const euro = Buffer.from('€', 'utf8');
    expect(through(['x\r', '\ny', euro.subarray(0, 1), Buffer.concat([euro.subarray(1), Buffer.from('\u009b')])])).toBe(
      'x\ny€\\x9b',
    );
    expect(through(['a\r', 'b\r'])).toBe('a\\x0db\\x0d');
  });
});
