import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { envName } from '../../../src/host/config/load.js';
import { CONFIG_KEYS } from '../../../src/host/config/schema.js';

describe('README environment variable table', () => {
  it('lists every config key once, with the variable name the loader reads and its meaning', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('### Environment variables'), readme.indexOf('## Command line'));
    const rows = [...section.matchAll(/^\| `([^`]+)` \| `([^`]+)` \| [^|]*\| [^|]*\| (.+) \|$/gm)].map((m) => [
      m[1],
      m[2],
      m[3],
    ]);
    expect(rows).toEqual(
      Object.entries(CONFIG_KEYS).map(([k, d]) => [k, envName(k as keyof typeof CONFIG_KEYS), d.help]),
    );
  });
});
