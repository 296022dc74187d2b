import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Tests bind real loopback sockets and run native code; two cores is the budget.
    pool: 'forks',
    maxWorkers: 2,
  },
});
