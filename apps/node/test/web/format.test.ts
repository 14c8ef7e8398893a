import { describe, expect, it } from 'vitest'
import { formatBytes } from '../../web/src/format.js'

describe('the web UI formatBytes', () => {
  it('never shows a rounded value that reads as the next unit', () => {
    expect(formatBytes(1023)).toBe('1023 B')
    expect(formatBytes(1536)).toBe('1.5 KiB')
    expect(formatBytes(1048575)).toBe('1.0 MiB')
    expect(formatBytes(1024 ** 3 - 1)).toBe('1.0 GiB')
    expect(formatBytes(100 * 1024 - 1)).toBe('100 KiB')
  })
})
