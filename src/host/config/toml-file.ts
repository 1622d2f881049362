/**
 * The config file as TOML text: where a dotted key is assigned (for file:line:col in errors and for
 * in-place edits) and writing a whole file from dotted keys. Shared by load.ts (reading, reporting) and
 * text-edit.ts (editing), which would otherwise import each other.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { stringify as stringifyToml } from 'smol-toml';
import { writeFileAtomic } from '../store/atomic-file.js';

/** Like locateKey, but undefined when no line assigns the key (inline tables, multi-line keys). */
export function findKeyLine(text: string, dotted: string): { line: number; col: number } | undefined {
  const lines = text.split('\n');
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    const header = /^\s*\[\s*([^\]]+?)\s*\]/.exec(raw);
    if (header?.[1] !== undefined) {
      section = header[1].replace(/["']/g, '');
      continue;
    }
    const m = /^(\s*)([A-Za-z0-9_."'-]+)\s*=/.exec(raw);
    if (!m?.[2]) continue;
    const key = m[2].replace(/["']/g, '');
    const full = section ? `${section}.${key}` : key;
    if (full === dotted) return { line: i + 1, col: (m[1]?.length ?? 0) + 1 };
  }
  return undefined;
}

export function writeConfig(file: string, flat: Record<string, unknown>): void {
  const nested: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(flat)) {
    const parts = k.split('.');
    let obj = nested;
    for (const p of parts.slice(0, -1)) obj = (obj[p] ??= {}) as Record<string, unknown>;
    obj[parts[parts.length - 1] as string] = val;
  }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileAtomic(file, `# VirtualGhost configuration (see \`virtualghost config show\`)\n${stringifyToml(nested)}\n`);
}
