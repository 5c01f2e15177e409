// examples/node/webhook.mjs: started on a free loopback port, posted to, answers
// checked.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { createApp } from '../../../examples/node/webhook.mjs'
import { healthySignals } from './fixtures.mjs'

let server
let base

before(async () => {
  server = createApp({ gateConfig: { guardrails: { max_change_pct: '30' } } })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${server.address().port}`
})

after(() => new Promise((resolve) => server.close(resolve)))

async function post(path, body) {
  const res = await fetch(base + path, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) })
  return { status: res.status, body: await res.json() }
}

test('an identify message is normalised and scored', async () => {
  const r = await post('/events', {
    type: 'identify', messageId: 'm-1', userId: 'u-1', timestamp: new Date().toISOString(),
    traits: { email: ' Ann@Example.com ', phone: '+1 650 555 1212' },
  })
  assert.equal(r.status, 200)
  assert.equal(r.body.message_id, 'm-1')
  assert.equal(r.body.keys.email, createHash('sha256').update('ann@example.com').digest('hex'))
  assert.equal(r.body.keys.phone, createHash('sha256').update('16505551212').digest('hex'))
  assert.ok(r.body.emq > 0 && r.body.emq <= 10)
})

test('a message without identity is a typed 422', async () => {
  const r = await post('/events', { type: 'track', messageId: 'm-2', event: 'x' })
  assert.equal(r.status, 422)
  assert.equal(r.body.code, 'missing_identity')
})

test('a small budget change on healthy signals executes; a large one does not', async () => {
  const now = '2026-03-01T12:00:00Z'
  const ok = await post('/budget', { signals: healthySignals(), campaign: 'cmp_42', from: 500, to: 550, now })
  assert.equal(ok.status, 200)
  assert.equal(ok.body.outcome, 'execute')
  assert.equal(ok.body.audit_seq, 0)
  const big = await post('/budget', { signals: healthySignals(), campaign: 'cmp_42', from: 500, to: 900, now })
  assert.notEqual(big.body.outcome, 'execute')
  assert.equal(big.body.audit_seq, 1)
})

test('malformed JSON is a 400, an unknown route a 404', async () => {
  assert.equal((await post('/budget', '{nope')).status, 400)
  assert.equal((await post('/nowhere', {})).status, 404)
})
