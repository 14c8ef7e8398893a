/** Builds the web UI into `outdir` (default `apps/node/web/dist`). */
export function buildWebUi(options?: { outdir?: string; minify?: boolean }): Promise<{ outdir: string; bytes: Record<string, number> }>
