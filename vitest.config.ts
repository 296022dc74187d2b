import { defineConfig } from 'vitest/config';

/**
 * Test files that judge real-time audio (real SIP clients, RTP over loopback, the engine's
 * 20 ms clock, a browser). They run after everything else, one file at a time: next to CPU-heavy
 * files (fuzzers, the compiler suites) they measure the machine's load instead of Parley.
 */
const REALTIME = [
  'test/e2e/**/*.test.ts',
  'test/web/**/*.test.ts',
  'test/security/**/*.test.ts',
  'test/media/engine-*.test.ts',
  'test/api/sip-scenario.test.ts',
  'test/api/reload-load.test.ts',
];

const shared = {
  testTimeout: 30_000,
  hookTimeout: 30_000,
  // Tests bind real loopback sockets and run native code; two cores is the budget.
  pool: 'forks' as const,
};

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          ...shared,
          name: 'main',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: ['**/node_modules/**', ...REALTIME],
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...shared,
          name: 'realtime',
          include: REALTIME,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
