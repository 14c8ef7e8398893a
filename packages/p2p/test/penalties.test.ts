import { expect, test } from 'vitest'
import { backoffDelay, sleep } from '../src/backoff.js'
import { Penalties } from '../src/penalties.js'

test('offences within the window lead to a ban that doubles per repeat', () => {
  let now = 1_000_000
  const p = new Penalties({ maxOffences: 3, banMs: 1000, banMaxMs: 3000, now: () => now })
  expect(p.offend('x')).toBe(false)
  expect(p.offend('x')).toBe(false)
  expect(p.isBanned('x')).toBe(false)
  expect(p.offend('x')).toBe(true)
  expect(p.isBanned('x')).toBe(true)
  expect(p.isBanned('y')).toBe(false)
  now += 1001
  expect(p.isBanned('x')).toBe(false)
  p.offend('x')
  p.offend('x')
  p.offend('x')
  now += 1500
  expect(p.isBanned('x')).toBe(true) // second ban: 2000 ms
  now += 600
  expect(p.isBanned('x')).toBe(false)
})

test('offences older than the window are forgotten', () => {
  let now = 0
  const p = new Penalties({ maxOffences: 2, banMs: 1000, banMaxMs: 1000, now: () => now })
  p.offend('x')
  now += 61_000
  expect(p.offend('x')).toBe(false)
  expect(p.offences('x')).toBe(1)
})

test('backoff delays are jittered below a doubling cap', () => {
  expect(backoffDelay(0, 100, 1000, () => 0.999)).toBe(99)
  expect(backoffDelay(3, 100, 1000, () => 0.5)).toBe(400)
  expect(backoffDelay(10, 100, 1000, () => 0.999)).toBe(999)
  expect(backoffDelay(10, 100, 1000, () => 0)).toBe(0)
})

test('sleep rejects with ABORTED when aborted', async () => {
  const controller = new AbortController()
  const pending = sleep(60_000, controller.signal)
  controller.abort()
  await expect(pending).rejects.toMatchObject({ code: 'ABORTED' })
})
