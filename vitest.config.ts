import { mkdtempSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// Every test run gets its own config/state/runtime/cache dirs (XDG), so it never touches the user's VMs,
// settings, images or warm snapshots; the images `npm test`'s setup built are hard-linked into the run's
// cache (building one takes a minute), and snapshots are made afresh per run.
const root = process.env['VG_TEST_ROOT'] ?? mkdtempSync(join(tmpdir(), 'vg-test-'));
process.env['VG_TEST_ROOT'] = root;
// The user's image cache: global-setup.ts links its images into the run's own cache (see there).
process.env['VG_REAL_CACHE'] ??= join(process.env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'virtualghost');

// VM tests boot real QEMU guests under TCG on a 2-core machine: run files one at a time so that
// boot timings stay meaningful, and give them generous timeouts.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    reporters: ['default'],
    env: {
      VG_TEST_ROOT: root,
      XDG_RUNTIME_DIR: join(root, 'run'),
      XDG_CONFIG_HOME: join(root, 'config'),
      XDG_STATE_HOME: join(root, 'state'),
      XDG_CACHE_HOME: join(root, 'cache'),
    },
  },
});
