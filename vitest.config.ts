import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// Every test run gets its own config/state/runtime dirs (XDG), so it never touches the user's VMs or
// settings; the image cache is shared (building an image takes a minute and is content-addressed).
const root = process.env['VG_TEST_ROOT'] ?? mkdtempSync(join(tmpdir(), 'vg-test-'));
process.env['VG_TEST_ROOT'] = root;

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
    },
  },
});
