import { configDefaults, defineConfig } from 'vitest/config';

/**
 * The slow files: thread stress tests, the compiled CLI run as a process,
 * the headless browser and SQLite under live writers. `npm test` runs them
 * with the rest; `npm run test:quick` (the `quick` project) leaves them out.
 */
const slow = [
  'test/threads/claimRace.test.ts',
  'test/threads/cut.test.ts',
  'test/threads/robustness.test.ts',
  'test/threads/stress.test.ts',
  'test/threads/interleavings.test.ts',
  'test/threads/gone.test.ts',
  'test/pipeline/chaining.threads.test.ts',
  'test/**/*.cli.test.ts',
  'test/sim/cli.test.ts',
  'test/sqlite/cli.test.ts',
  'test/cli/vcpus.test.ts',
  'test/**/*.browser.test.ts',
  'test/sqlite/live.test.ts',
  'test/sqlite/full.test.ts',
  'test/sqlite/chain.test.ts',
  'test/threads/chain.test.ts',
  'test/docs/codeBlocks.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'quick', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...slow] } },
      // The compiled CLI, built once for the tests that spawn it (all of them slow).
      { extends: true, test: { name: 'slow', include: slow, globalSetup: ['test/support/buildOnce.ts'] } },
    ],
  },
});
