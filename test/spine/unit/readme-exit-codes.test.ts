import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../../src/host/cli/exit-codes.js';

describe('README exit-code table', () => {
  it('lists exactly the codes of src/host/cli/exit-codes.ts, with their meanings', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Exit codes'), readme.indexOf('## Troubleshooting'));
    const rows = [...section.matchAll(/^\| (\d+) \| (.+) \|$/gm)].map((m) => [Number(m[1]), m[2]] as const);
    const expected = Object.values(EXIT_CODES).map((e) => [e.code, e.meaning] as const);
    expect(rows).toEqual(expected);
  });
});
