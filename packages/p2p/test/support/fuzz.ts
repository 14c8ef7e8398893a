/** Runs per property: FUZZ_SCALE multiplies them for longer local runs (FUZZ_SCALE=10 pnpm test). */
export function runs(base: number): number {
  const scale = Number(process.env.FUZZ_SCALE ?? '1')
  return Math.max(1, Math.round(base * (Number.isFinite(scale) && scale > 0 ? scale : 1)))
}

/** Inputs fed to decoders so far in this test file (reported in the test output). */
export const fuzzCounter = { inputs: 0 }
