import { defineConfig } from 'vitest/config'

// The fault suite: real daemons killed, corrupted, lied to, flooded and partitioned. It runs on
// its own (`pnpm test:faults`), one file at a time, never as part of `pnpm test`.
export default defineConfig({
  ssr: { resolve: { conditions: ['@cas/source'] } },
  resolve: { conditions: ['@cas/source'] },
  test: {
    include: ['test/faults/**/*.fault.ts'],
    fileParallelism: false,
    testTimeout: 10 * 60_000,
    hookTimeout: 3 * 60_000,
    reporters: ['verbose'],
  },
})
