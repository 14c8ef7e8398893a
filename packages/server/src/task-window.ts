/**
 * Runs at most `limit` tasks at once. `run` waits for a free slot before
 * starting a task, which is how producers get backpressure; the first failure
 * is rethrown from the next `run` or from `drain`.
 */
export class TaskWindow {
  private readonly active = new Set<Promise<void>>()
  private failure: { error: unknown } | undefined

  constructor(private readonly limit: number) {}

  /** Number of tasks running. */
  get size(): number {
    return this.active.size
  }

  /** Starts `task` once fewer than `limit` tasks run. */
  async run(task: () => Promise<void>): Promise<void> {
    while (this.active.size >= this.limit) await Promise.race(this.active)
    this.check()
    const p: Promise<void> = task().then(
      () => {
        this.active.delete(p)
      },
      (error: unknown) => {
        this.active.delete(p)
        this.failure ??= { error }
      },
    )
    this.active.add(p)
  }

  /** Waits for every running task; rethrows the first failure. */
  async drain(): Promise<void> {
    while (this.active.size > 0) await Promise.race(this.active)
    this.check()
  }

  private check(): void {
    if (this.failure !== undefined) throw this.failure.error
  }
}
