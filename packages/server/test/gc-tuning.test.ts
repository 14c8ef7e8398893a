import { once } from 'node:events'
import { Worker } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { tuneGarbageCollector } from '../src/gc-tuning.js'

// Runs in a thread of its own (a fresh heap): on 'go', allocates 600 MB of short-lived objects of
// which a third survive a while (as a node's traffic does), then tells the size of its young generation.
const CHURN = `
const { parentPort } = require('node:worker_threads')
const { getHeapSpaceStatistics } = require('node:v8')
parentPort.once('message', () => {
  const keep = []
  for (let i = 0; i < 3e6; i++) {
    const o = { i, s: [i] }
    if (i % 3 === 0) keep.push(o)
    if (keep.length > 2e5) keep.length = 0
  }
  parentPort.postMessage(getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size)
})
`

describe('tuneGarbageCollector', () => {
  it('keeps the young generation at its initial size, also in heaps set up after it ran (worker threads)', async () => {
    tuneGarbageCollector()
    tuneGarbageCollector()
    const worker = new Worker(CHURN, { eval: true })
    try {
      await once(worker, 'online')
      worker.postMessage('go')
      const [youngBytes] = (await once(worker, 'message')) as [number]
      // Untuned, V8 doubles it up to 16 MiB under this load.
      expect(youngBytes).toBeLessThanOrEqual(4 * 1024 * 1024)
    } finally {
      await worker.terminate()
    }
  })
})
