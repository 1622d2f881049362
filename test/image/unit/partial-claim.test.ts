/** Partial downloads are claimed by one pull at a time, given back for resuming, and taken over from dead pulls. */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claimPartial } from '../../../src/host/image/registry/partial-claim.js';
import { startTimeOf } from '../../../src/host/store/process-identity.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vg-claim-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('claimPartial', () => {
  it('the shared partial goes to one claim; a second claim of the same blob gets a file of its own', () => {
    writeFileSync(join(dir, 'sha256-aa'), 'first half');
    const a = claimPartial(dir, 'sha256-aa');
    const b = claimPartial(dir, 'sha256-aa');
    expect(readFileSync(a.path, 'utf8')).toBe('first half');
    expect(b.path).not.toBe(a.path);
    expect(readFileSync(b.path, 'utf8')).toBe('');
    b.release(); // empty: dropped
    a.release();
    expect(readdirSync(dir)).toEqual(['sha256-aa']);
  });

  it("takes over a dead pull's claim but not a live one's, and drops an empty one on release", async () => {
    const live = spawn('sleep', ['30']);
    try {
      await new Promise((r) => live.once('spawn', r));
      const livePid = live.pid ?? 0;
      writeFileSync(join(dir, `sha256-bb.${livePid}-${startTimeOf(livePid)}-0a`), 'live');
      const c = claimPartial(dir, 'sha256-bb');
      expect(readFileSync(c.path, 'utf8')).toBe('');
      c.release();
      expect(existsSync(c.path)).toBe(false);
      expect(existsSync(join(dir, 'sha256-bb'))).toBe(false);
      // pid 2^22+1 is above the kernel's pid_max: no process has it.
      writeFileSync(join(dir, 'sha256-bb.4194305-1-0b'), 'dead');
      const d = claimPartial(dir, 'sha256-bb');
      expect(readFileSync(d.path, 'utf8')).toBe('dead');
      d.discard();
      expect(readdirSync(dir)).toEqual([`sha256-bb.${livePid}-${startTimeOf(livePid)}-0a`]);
    } finally {
      live.kill();
    }
  });
});
