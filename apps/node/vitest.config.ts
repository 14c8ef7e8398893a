import { defineProject } from 'vitest/config'

export default defineProject({
  // Resolve workspace packages to their TypeScript sources: tests need no build.
  ssr: { resolve: { conditions: ['@cas/source'] } },
  resolve: { conditions: ['@cas/source'] },
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    // The fault suite runs on its own (pnpm test:faults): it takes many minutes.
    exclude: ['test/faults/**', '**/node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
})
