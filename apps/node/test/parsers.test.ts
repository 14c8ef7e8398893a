import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { formatHostPort, parseHostPort } from '../src/address.js'
import { parseConfig } from '../src/config.js'
import { parseRange } from '../src/http/range.js'
import { formatSize, parseSize } from '../src/size.js'
import { presentedToken, TokenCheck } from '../src/http/auth.js'

describe('parseRange', () => {
  test.each([
    ['bytes=0-9', 100, { kind: 'partial', range: { start: 0, end: 9 } }],
    ['bytes=90-', 100, { kind: 'partial', range: { start: 90, end: 99 } }],
    ['bytes=-10', 100, { kind: 'partial', range: { start: 90, end: 99 } }],
    ['bytes=-200', 100, { kind: 'partial', range: { start: 0, end: 99 } }],
    ['bytes=50-500', 100, { kind: 'partial', range: { start: 50, end: 99 } }],
    ['bytes=100-', 100, { kind: 'unsatisfiable' }],
    ['bytes=-0', 100, { kind: 'unsatisfiable' }],
    ['bytes=0-', 0, { kind: 'unsatisfiable' }],
    ['bytes=9-3', 100, { kind: 'full' }],
    ['bytes=0-1,5-6', 100, { kind: 'full' }],
    ['items=0-1', 100, { kind: 'full' }],
  ])('%s of %i bytes', (header, size, expected) => {
    expect(parseRange(header, size)).toEqual(expected)
  })

  test('any header gives a range inside the body, or none', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => `bytes=${a}-${b}`)), fc.nat(10_000), (header, size) => {
        const result = parseRange(header, size)
        if (result.kind === 'partial') {
          expect(result.range.start).toBeGreaterThanOrEqual(0)
          expect(result.range.end).toBeLessThan(size)
          expect(result.range.start).toBeLessThanOrEqual(result.range.end)
        }
      }),
    )
  })
})

describe('parseSize / formatSize', () => {
  test.each([
    ['1048576', 1048576],
    ['10GB', 10_000_000_000],
    ['512MiB', 512 * 1024 ** 2],
    ['1.5GiB', 1.5 * 1024 ** 3],
    ['64K', 65536],
    [' 2 tb ', 2e12],
  ])('%s', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes)
  })

  test.each(['', 'lots', '-1', '1e9', '10 GBs', '1.2.3MB'])('%j is refused', (text) => {
    expect(parseSize(text)).toBeUndefined()
  })

  test('formats bytes for people; huge or infinite is unlimited', () => {
    expect(formatSize(512)).toBe('512 B')
    expect(formatSize(1536)).toBe('1.5 KiB')
    expect(formatSize(3 * 1024 ** 3)).toBe('3.0 GiB')
    expect(formatSize(Number.POSITIVE_INFINITY)).toBe('unlimited')
    expect(formatSize(Number.MAX_SAFE_INTEGER)).toBe('unlimited')
    expect(formatSize(null)).toBe('unlimited')
  })

  // The unit is picked by the number as shown: a value that rounds up to 1024 is the next unit's 1.0.
  test.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1023.6, '1.0 KiB'],
    [1024, '1.0 KiB'],
    [10188, '9.9 KiB'],
    [10189, '10 KiB'],
    [1024 * 1023.4, '1023 KiB'],
    [1024 ** 2 - 1, '1.0 MiB'],
    [1024 ** 2, '1.0 MiB'],
    [1024 ** 3 - 1, '1.0 GiB'],
    [1024 ** 4 - 1, '1.0 TiB'],
    [1024 ** 5 * 3, '3.0 PiB'],
  ])('formatSize(%d) is %s', (bytes, text) => {
    expect(formatSize(bytes)).toBe(text)
  })

  test('formatSize never shows 1024 or more of a unit that has a next one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1024 ** 5 - 1 }), (bytes) => {
        const [number, unit] = formatSize(bytes).split(' ')
        expect(Number(number)).toBeLessThan(1024)
        // The number shown is the size rounded, never more than half its last digit away.
        const scale = 1024 ** ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'].indexOf(unit!)
        const step = number!.includes('.') ? 0.1 : 1
        expect(Math.abs(bytes / scale - Number(number))).toBeLessThanOrEqual(step / 2 + 1e-9)
      }),
    )
  })
})

describe('parseHostPort', () => {
  test('round-trips IPv4, names and bracketed IPv6', () => {
    for (const text of ['127.0.0.1:7401', 'localhost:0', '[::1]:65535', 'example.org:80']) {
      expect(formatHostPort(parseHostPort(text)!)).toBe(text)
    }
  })

  test.each(['127.0.0.1', ':80', '1.2.3.4:65536', 'a b:1', '::1:80', 'http://x:1'])('%j is refused', (text) => {
    expect(parseHostPort(text)).toBeUndefined()
  })

  test('never throws', () => {
    fc.assert(fc.property(fc.string(), (text) => void parseHostPort(text)))
  })
})

describe('config', () => {
  test('defaults fill in; sizes become bytes; one address becomes a list', () => {
    const config = parseConfig({ listen: '0.0.0.0:7400', capacity: '1GiB' }, 'config.json')
    expect(config).toMatchObject({ listen: ['0.0.0.0:7400'], api: '127.0.0.1:7401', replicas: 3, capacity: 1024 ** 3, bootstrap: [] })
  })

  test('every problem is its own line naming the field', () => {
    expect(() => parseConfig({ replicas: 0, api: 'nowhere', extra: true, chunkSize: 1 }, 'c.json')).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    )
    try {
      parseConfig({ replicas: 0, api: 'nowhere', extra: true }, 'c.json')
    } catch (err) {
      const lines = (err as Error).message.split('\n')
      expect(lines).toHaveLength(3)
      expect(lines).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^c\.json: replicas: /),
          expect.stringMatching(/^c\.json: api: expected HOST:PORT/),
          'c.json: extra: unknown key',
        ]),
      )
    }
  })
})

describe('tokens', () => {
  test('bearer header first, then ?token=', () => {
    expect(presentedToken('Bearer abc', { token: 'zzz' })).toBe('abc')
    expect(presentedToken('bearer   abc  ', {})).toBe('abc')
    expect(presentedToken('Basic abc', { token: 'zzz' })).toBeUndefined()
    expect(presentedToken(undefined, { token: 'zzz' })).toBe('zzz')
    expect(presentedToken(undefined, { token: ['a', 'b'] })).toBeUndefined()
  })

  test('only the exact token matches, whatever the length', () => {
    const check = new TokenCheck('a'.repeat(64))
    expect(check.matches('a'.repeat(64))).toBe(true)
    expect(check.matches('a'.repeat(63))).toBe(false)
    expect(check.matches('')).toBe(false)
    expect(check.matches(undefined)).toBe(false)
  })
})
