import { defineConfig } from 'vitest/config';

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
  },
});
