// End-to-end tests in a real code-server driven by headless Chromium: `npm run test:e2e`
// (scripts/e2e/run.sh installs code-server and Chromium first). One file at a time in one fork:
// each test starts its own code-server, and the machine has two cores.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.test.ts'],
    globalSetup: ['test/e2e/globalSetup.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
    reporters: ['default'],
  },
});
