import { defineConfig } from 'tsup'

export default defineConfig({
  // gc-tuning stands alone, so a process can tune its collector before it loads anything else.
  entry: ['src/index.ts', 'src/gc-tuning.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
})
