// The ESM and CommonJS entry points export the same names and the same objects.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import * as esm from '../index.mjs'

const cjs = createRequire(import.meta.url)('../index.js')

test('ESM exports every CommonJS export, as the same object', () => {
  const named = Object.keys(esm).filter((k) => k !== 'default').sort()
  assert.deepEqual(named, Object.keys(cjs).sort())
  for (const k of named) assert.equal(esm[k], cjs[k], k)
  assert.equal(esm.default, cjs)
})

test('the package resolves through its exports map', async () => {
  const pkg = createRequire(import.meta.url)('../package.json')
  assert.equal(pkg.exports['.'].import, './index.mjs')
  assert.equal(pkg.exports['.'].require, './index.js')
  assert.equal(pkg.exports['.'].types, './index.d.ts')
  assert.ok(pkg.engines.node.startsWith('>=18'))
})
