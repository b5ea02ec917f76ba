import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    // The compiled CLI, built once for the tests that spawn it.
    globalSetup: ['test/support/buildOnce.ts'],
  },
});
