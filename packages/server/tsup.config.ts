import { defineConfig } from 'tsup'

export default defineConfig({
  // gc-tuning and one-arena stand alone, so a process can use them before it loads anything else.
  entry: ['src/index.ts', 'src/gc-tuning.ts', 'src/one-arena.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
})
