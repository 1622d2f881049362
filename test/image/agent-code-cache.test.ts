/**
 * A faster cold boot (#18): the guest compiles the agent from the V8 code cache the image build made
 * (shared/agent-start.ts). On a real cold boot under TCG: the loader's console line says V8 accepted the
 * cache, and its steps (Node start → loader → compiled → ran) are in order and in guest uptime. The
 * cache is made with the agent's own flags; made without them V8 rejects it (so the flags have one home).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AGENT_BUNDLE, AGENT_CODE_CACHE, AGENT_LOAD_LINE, AGENT_NODE_FLAGS } from '../../src/shared/agent-start.js';
import { bootVm } from '../helpers/session.js';
import { currentImage } from '../helpers/image.js';

describe('the agent code cache', () => {
  it('a cold boot compiles the agent from the cache the image build made', async () => {
    const s = await bootVm({}, undefined, undefined, true);
    try {
      expect(s.restoredFrom).toBeUndefined();
      const consoleText = await s.driver.consoleTail(400);
      const line = consoleText.split('\n').find((l) => l.includes(AGENT_LOAD_LINE));
      expect(line, consoleText).toBeDefined();
      expect(line).toContain('code-cache=accepted');
      const at = (k: string): number => Number(new RegExp(`${k}=([\\d.]+)`).exec(line ?? '')?.[1]);
      const steps = ['node-start', 'loader', 'compiled', 'ran'].map(at);
      expect(steps.every(Number.isFinite), line).toBe(true);
      expect([...steps].sort((a, b) => a - b)).toEqual(steps);
    } finally {
      await s.close();
    }
  }, 240_000);

  it("the image's cache is V8's for this bundle with the agent's flags, and is rejected without them", async () => {
    const image = await currentImage();
    const dir = mkdtempSync(join(tmpdir(), 'vg-cc-'));
    try {
      // The image's files, read out of its ext4 root without mounting it.
      const rootfs = image.rootfs;
      for (const f of [AGENT_BUNDLE, AGENT_CODE_CACHE])
        execFileSync('debugfs', ['-R', `dump /opt/ghostly/${f} ${join(dir, f)}`, rootfs], { stdio: 'ignore' });
      const probe = (flags: string[]): string =>
        execFileSync(
          process.execPath,
          [
            ...flags,
            '-e',
            `const vm=require('vm'),fs=require('fs'),M=require('module');const f=process.argv[1];` +
              `const s=new vm.Script(M.wrap(fs.readFileSync(f+'/${AGENT_BUNDLE}','utf8')),{cachedData:fs.readFileSync(f+'/${AGENT_CODE_CACHE}')});` +
              `process.stdout.write(String(s.cachedDataRejected))`,
            dir,
          ],
          { encoding: 'utf8' },
        );
      expect(readFileSync(join(dir, AGENT_CODE_CACHE)).length).toBeGreaterThan(10_000);
      expect(probe([...AGENT_NODE_FLAGS])).toBe('false');
      expect(probe([])).toBe('true');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
