/**
 * Every error VirtualGhost raises on purpose has a documented exit code: the compiler holds the code list
 * (src/shared/error-codes.ts) and the map (exit-codes.ts) together; this checks that no error class in
 * src/ keeps a code outside the list (a class typed `code: string` would slip past the compiler) and
 * that none of them lands on 70, which means "a bug".
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT_CODES, exitCodeFor } from '../../../src/host/cli/exit-codes.js';
import { ERROR_CODES } from '../../../src/shared/error-codes.js';

const src = join(import.meta.dirname, '..', '..', '..', 'src');
const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
const declared = [
  ...new Set(
    files(src).flatMap((f) =>
      [...readFileSync(f, 'utf8').matchAll(/readonly code = '([A-Z_]+)'/g)].map((m) => m[1] as string),
    ),
  ),
].sort();

describe('error codes', () => {
  it('the list holds exactly the codes error classes declare, plus the two the CLI makes itself', () => {
    expect(declared.length).toBeGreaterThan(30);
    expect([...ERROR_CODES].sort()).toEqual([...declared, 'INTERNAL', 'INTERRUPTED'].sort());
  });

  it('each maps to a documented exit code, and only INTERNAL to 70', () => {
    const documented = new Set<number>(Object.values(EXIT_CODES).map((e) => e.code));
    for (const code of ERROR_CODES) {
      const exit = exitCodeFor({ code });
      expect(documented.has(exit), code).toBe(true);
      expect(exit === EXIT_CODES.INTERNAL.code, code).toBe(code === 'INTERNAL');
    }
    expect(exitCodeFor({ code: 'NOT_A_CODE' })).toBe(EXIT_CODES.INTERNAL.code);
    expect(exitCodeFor(new Error('plain'))).toBe(EXIT_CODES.INTERNAL.code);
  });
});
