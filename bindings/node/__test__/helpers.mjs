import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import assert from 'node:assert/strict'

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')

export function json(rel) {
  return JSON.parse(readFileSync(join(REPO, rel), 'utf8'))
}

// An expected object pins the keys it lists; lists are compared element by element.
export function matches(actual, expected, at = '') {
  if (expected !== null && typeof expected === 'object' && !Array.isArray(expected)) {
    assert.ok(actual !== null && typeof actual === 'object', `${at}: ${JSON.stringify(actual)} is not an object`)
    for (const [k, v] of Object.entries(expected)) matches(actual[k] ?? null, v, `${at}.${k}`)
  } else if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${at}: ${JSON.stringify(actual)} is not a list`)
    assert.equal(actual.length, expected.length, `${at}: ${actual.length} elements, expected ${expected.length}`)
    expected.forEach((e, i) => matches(actual[i], e, `${at}[${i}]`))
  } else {
    assert.deepEqual(actual, expected, `${at}: got ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`)
  }
}
