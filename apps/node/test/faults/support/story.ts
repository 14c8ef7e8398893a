/**
 * What a fault run tried and what survived, printed as it happens and summed up at the end, so
 * the output of `pnpm test:faults` reads as a report.
 */
export class Story {
  readonly #lines: string[] = []
  readonly #started = Date.now()

  constructor(readonly title: string) {}

  #add(kind: string, text: string): void {
    const line = `[${((Date.now() - this.#started) / 1000).toFixed(1).padStart(6)} s] ${kind.padEnd(8)} ${text}`
    this.#lines.push(line)
    console.log(`${this.title} | ${line}`)
  }

  /** Something the run does to the system. */
  tried(text: string): void {
    this.#add('TRIED', text)
  }

  /** Something that held up. */
  survived(text: string): void {
    this.#add('SURVIVED', text)
  }

  /** A neutral observation. */
  note(text: string): void {
    this.#add('NOTE', text)
  }

  /** The whole story, for the end of the run. */
  summary(): string {
    return [`== ${this.title}`, ...this.#lines].join('\n')
  }
}

/** Formats a byte count. */
export function size(bytes: number): string {
  const MiB = 1024 * 1024
  return bytes >= 1024 * MiB ? `${(bytes / 1024 / MiB).toFixed(2)} GiB` : `${(bytes / MiB).toFixed(1)} MiB`
}
