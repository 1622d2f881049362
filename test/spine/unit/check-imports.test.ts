/** The lint step that keeps src/ free of import cycles and of imports the layering forbids. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const script = join(import.meta.dirname, '..', '..', '..', 'scripts', 'check-imports.mjs');
const made: string[] = [];
afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'vg-imports-'));
  made.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const check = (root: string) => spawnSync(process.execPath, [script, root], { encoding: 'utf8' });

describe('check-imports', () => {
  it('passes this checkout', () => {
    const r = spawnSync(process.execPath, [script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('names the modules of a cycle, type-only and dynamic imports included', () => {
    const r = check(
      tree({
        'host/a.ts': "import type { B } from './b.js';\nexport type A = B;\n",
        'host/b.ts': "export type B = number;\nexport const load = () => import('./c.js');\n",
        'host/c.ts': "export { type A } from './a.js';\n",
      }),
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('import cycle: host/a.ts ↔ host/b.ts ↔ host/c.ts');
  });

  it('refuses the supervisor importing a command, and neutral vm/ code reaching into a backend', () => {
    const r = check(
      tree({
        'host/cli/context.ts': 'export const x = 1;\n',
        'host/supervisor/main.ts': "import { x } from '../cli/context.js';\nexport const y = x;\n",
        'host/vm/qemu/inner.ts': 'export const z = 1;\n',
        'host/vm/accel.ts': "import { z } from './qemu/inner.js';\nexport const w = z;\n",
      }),
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('host/supervisor/main.ts imports host/cli/context.ts');
    expect(r.stderr).toContain('host/vm/accel.ts imports host/vm/qemu/inner.ts');
  });
});
