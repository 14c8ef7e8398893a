import { defineProject } from 'vitest/config'

export default defineProject({
  // Resolve workspace packages to their TypeScript sources: tests need no build.
  ssr: { resolve: { conditions: ['@cas/source'] } },
  resolve: { conditions: ['@cas/source'] },
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
})
