import { expect, test } from 'vitest'
import { PACKAGE_NAME } from '../src/index.js'

test('exports its name', () => {
  expect(PACKAGE_NAME).toBe('@cas/store')
})
