#!/usr/bin/env node
/**
 * Import rules the TypeScript project references cannot express, checked by `npm run lint`:
 *  - no import cycles among src/ modules (static, type-only and dynamic imports all count: a cycle of
 *    types still means two modules that cannot be understood, or moved, one without the other);
 *  - folders that must not use others: the supervisor is not a command (it never imports cli/), and the
 *    backend-neutral vm/ layer does not reach into one backend for shared facts.
 * Prints each violation with the files involved and exits 1 if there is any.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// The tree to check: src/ of this checkout, or a directory given as the argument (its tests use fixtures).
const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'src'));

/** [importer folder, forbidden folder, why] relative to src/. */
const FORBIDDEN = [
  [
    'host/supervisor/',
    'host/cli/',
    'the supervisor is a long-lived process, not a command: share code through a neutral module',
  ],
];
const BACKEND_DIRS = ['host/vm/qemu/', 'host/vm/firecracker/'];

function sourceFiles(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

const files = sourceFiles(root);
const known = new Set(files);
const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;
const graph = new Map();
for (const f of files) {
  const text = readFileSync(f, 'utf8');
  const deps = new Set();
  for (const m of text.matchAll(IMPORT)) {
    const target = resolve(dirname(f), (m[1] ?? m[2]).replace(/\.js$/, '.ts'));
    if (known.has(target)) deps.add(target);
  }
  graph.set(f, [...deps]);
}

const problems = [];
const rel = (f) => relative(root, f);

for (const [f, deps] of graph) {
  const from = rel(f);
  for (const d of deps) {
    const to = rel(d);
    for (const [importer, forbidden, why] of FORBIDDEN) {
      if (from.startsWith(importer) && to.startsWith(forbidden) && from !== to)
        problems.push(`${from} imports ${to}: ${why}`);
    }
    // A neutral vm/ module (directly in host/vm/) must not depend on one backend's internals.
    const neutral = from.startsWith('host/vm/') && !BACKEND_DIRS.some((b) => from.startsWith(b));
    const backend = BACKEND_DIRS.find((b) => to.startsWith(b));
    if (neutral && backend && !/\/index\.ts$/.test(to) && !from.startsWith('host/vm/select.ts')) {
      problems.push(
        `${from} imports ${to}: backend-neutral vm/ code uses a backend only through its index.ts (or move the shared part out of ${backend})`,
      );
    }
  }
}

// Tarjan's strongly connected components: every component of more than one module is a cycle.
let next = 0;
const index = new Map();
const low = new Map();
const stack = [];
const onStack = new Set();
function visit(v) {
  index.set(v, next);
  low.set(v, next);
  next++;
  stack.push(v);
  onStack.add(v);
  for (const w of graph.get(v)) {
    if (!index.has(w)) {
      visit(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
  }
  if (low.get(v) !== index.get(v)) return;
  const component = [];
  let w;
  do {
    w = stack.pop();
    onStack.delete(w);
    component.push(w);
  } while (w !== v);
  if (component.length > 1) problems.push(`import cycle: ${component.map(rel).sort().join(' ↔ ')}`);
}
for (const f of files) if (!index.has(f)) visit(f);

for (const p of problems) console.error(`check-imports: ${p}`);
if (problems.length) process.exit(1);
console.log(`check-imports: ${files.length} modules, no cycles, no forbidden imports`);
