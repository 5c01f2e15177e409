// testdata/normalization.json (digests computed with Python's hashlib) through the
// Node API, and the batch call against the one-value call.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import stratum from '../index.js'
import { json } from './helpers.mjs'

const VECTORS = json('testdata/normalization.json')
const normalizer = (overrides) => new stratum.Normalizer({ ...VECTORS.defaults, ...(overrides ?? {}) })

for (const c of VECTORS.cases) {
  test(`vector ${c.id}`, () => {
    const n = normalizer(c.config)
    const got = n.normalize(c.platform, c.field, c.input, { country: c.context?.country })
    const want = c.expected
    if ('warning' in want) {
      assert.equal(got.warning, want.warning)
      assert.equal(got.value, null)
      return
    }
    assert.equal(got.warning, null)
    assert.equal(got.note, want.note ?? null)
    assert.equal(got.origin, want.origin)
    assert.equal(got.value, want.value)
    if (want.origin === 'hashed') {
      assert.equal(got.normalized, want.normalized)
      assert.equal(stratum.sha256Hex(got.normalized), want.sha256)
    } else if (want.origin === 'raw') {
      assert.equal(got.value, want.normalized)
    } else {
      assert.equal(got.normalized, null)
    }
  })
}

for (const c of VECTORS.config_errors) {
  test(`config error ${c.id}`, () => {
    assert.throws(() => new stratum.Normalizer(c.config), (e) => {
      assert.ok(e instanceof stratum.InvalidConfigError || e instanceof stratum.StratumError)
      assert.equal(e.code, c.code)
      assert.equal(e.field, c.field)
      return true
    })
  })
}

test('sha256Hex is the SHA-256 of the UTF-8', () => {
  for (const s of ['', 'ann@example.com', 'zoë']) {
    assert.equal(stratum.sha256Hex(s), createHash('sha256').update(s, 'utf8').digest('hex'))
  }
})

test('normalizeList gives the one-value results, row for row, from strings and from a Buffer', async () => {
  const n = normalizer()
  const rows = [' Ann@Example.com ', null, 'nope', 'bob@example.com', 'b0a53cf19e34d05b57bced7365c6b00ddbe38d62957e863de2a66a56c3b42cea']
  const out = await n.normalizeList('meta', 'email', rows)
  assert.equal(out.values.length, rows.length)
  rows.forEach((r, i) => {
    if (r === null) {
      assert.equal(out.values[i], null)
      assert.equal(out.warnings[i], null)
      return
    }
    const one = n.normalize('meta', 'email', r)
    assert.equal(out.values[i], one.value)
    assert.equal(out.warnings[i], one.warning)
  })
  assert.equal(out.values[0], createHash('sha256').update('ann@example.com').digest('hex'))
  const text = rows.filter((r) => r !== null)
  const fromBuf = await n.normalizeList('meta', 'email', Buffer.from(text.join('\n') + '\n'))
  assert.deepEqual(fromBuf.values, text.map((r) => n.normalize('meta', 'email', r).value))
})

test('normalizeList refuses a lone surrogate with a typed error naming the row', async () => {
  const n = normalizer()
  assert.throws(() => n.normalizeList('meta', 'email', ['a@b.co', 'x\uD800y@example.com']), (e) => {
    assert.ok(e instanceof stratum.InvalidJsonError)
    assert.equal(e.code, 'invalid_json')
    assert.equal(e.field, 'arguments[2][1]')
    return true
  })
  // A real U+FFFD is text like any other.
  const ok = await n.normalizeList('meta', 'email', ['\uFFFD@example.com'])
  assert.equal(ok.values.length, 1)
})

test('hashColumn gives normalizeList digests in one buffer, with the dropped rows', async () => {
  const n = normalizer()
  const rows = [' Ann@Example.com ', null, 'nope', 'bob@example.com']
  const list = await n.normalizeList('meta', 'email', rows)
  const col = await n.hashColumn('meta', 'email', rows)
  assert.equal(col.width, 64)
  assert.equal(col.digests.length, 4 * 64)
  const digest = (c, i) => (c.kept[i] ? c.digests.subarray(i * 64, (i + 1) * 64).toString('latin1') : null)
  assert.deepEqual([0, 1, 2, 3].map((i) => digest(col, i)), list.values)
  assert.deepEqual(col.dropped, [{ index: 2, code: list.warnings[2] }])
  // The same rows as a Buffer of lines (no null rows there).
  const lines = await n.hashColumn('meta', 'email', Buffer.from(' Ann@Example.com \nnope\nbob@example.com\n'))
  assert.deepEqual([0, 1, 2].map((i) => digest(lines, i)), [list.values[0], null, list.values[3]])
  assert.deepEqual(lines.dropped, [{ index: 1, code: list.warnings[2] }])
  // A field sent in clear text has no fixed-width digest.
  await assert.rejects(n.hashColumn('meta', 'client_ip', ['203.0.113.7']), (e) => e.code === 'invalid_config' && e.field === 'field')
})
