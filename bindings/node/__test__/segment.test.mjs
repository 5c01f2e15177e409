// Segments and audiences: parse / JSON form / validation with typed errors (line
// and column on syntax errors), incremental audiences through `Cdp` with
// transitions and events, full evaluation, audience sync, the one-person preview.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import stratum from '../index.js'

const T0 = '2026-03-02T09:00:00Z'
const DAY = 86_400_000
const at = (ms) => new Date(Date.parse(T0) + ms).toISOString()
const msg = (messageId, body, timestamp = T0) => ({ messageId, timestamp, ...body })

test('text and JSON forms round-trip', () => {
  const s = stratum.Segment.parse('performed "Order Completed" at least 2 times within 30d where properties.total > 50 and plan = "pro"')
  assert.ok(s instanceof stratum.Segment)
  assert.ok(stratum.Segment.parse(s.toText()).equals(s))
  assert.ok(stratum.Segment.fromJson(s.toJson()).equals(s))
  assert.ok(stratum.Segment.fromJson(JSON.stringify(s)).equals(s))
  const j = s.toJson()
  assert.deepEqual(j.and[1], { trait: { name: 'plan', op: 'eq', value: { string: 'pro' } } })
  assert.deepEqual(j.and[0].event.count, { at_least: 2 })
  assert.deepEqual(j.and[0].event.window, { within: { seconds: 2592000 } })
  assert.equal(String(s), s.toText())
  assert.deepEqual(JSON.parse(JSON.stringify(s)), j)
  // a JSON string holds the text form
  assert.equal(stratum.Segment.fromJson(JSON.stringify('plan = "pro"')).toText(), 'plan = "pro"')
})

test('a syntax error is a SegmentSyntaxError with line and column', () => {
  assert.throws(
    () => stratum.Segment.parse('plan = "pro" and\n  performed 12'),
    (e) => {
      assert.ok(e instanceof stratum.SegmentSyntaxError)
      assert.ok(e instanceof stratum.StratumError)
      assert.equal(e.code, 'segment_syntax')
      assert.equal(e.field, '2:13')
      assert.equal(e.line, 2)
      assert.equal(e.column, 13)
      assert.match(e.message, /event name/)
      return true
    },
  )
})

test('other bad segments get their own classes', () => {
  const cases = [
    ['plan > "pro"', stratum.TypeMismatchError],
    ['performed "X" within 0d', stratum.SegmentLimitError],
    ['('.repeat(100) + 'a = 1' + ')'.repeat(100), stratum.SegmentLimitError],
    ['a = ' + '9'.repeat(40), stratum.SegmentLimitError],
  ]
  for (const [text, cls] of cases) {
    assert.throws(() => stratum.Segment.parse(text), (e) => e instanceof cls && e.line === undefined, text)
  }
  assert.throws(() => stratum.Segment.fromJson({ trait: { name: 'plan', op: 'equals' } }), stratum.InvalidJsonError)
})

test('validation suggests the closest declared name', () => {
  const schema = { traits: { plan: 'string', age: 'number' } }
  stratum.Segment.parse('plan = "pro" and age > 3').validate(schema)
  assert.throws(
    () => stratum.Segment.parse('plna = "pro"').validate(schema),
    (e) => e instanceof stratum.UnknownNameError && e.field === '$.trait.name' && /did you mean "plan"/.test(e.message),
  )
  assert.throws(() => stratum.Segment.parse('age = "old"').validate(schema), stratum.TypeMismatchError)
  assert.throws(() => stratum.Segment.parse('plan = "pro"').validate({ traits: { plan: 'text' } }), stratum.InvalidJsonError)
})

test('readSegment gives both forms of either form', () => {
  const out = stratum.readSegment({ segment: 'plan="pro"  # a comment' })
  assert.deepEqual(out, { text: 'plan = "pro"', json: { trait: { name: 'plan', op: 'eq', value: { string: 'pro' } } } })
  assert.deepEqual(stratum.readSegment({ segment: out.json }), out)
  assert.throws(() => stratum.readSegment({ segment: 'plan =' }), (e) => e instanceof stratum.SegmentSyntaxError && e.line === 1 && e.column === 7)
})

function buyersCdp() {
  const cdp = new stratum.Cdp()
  cdp.setAudiences([
    { key: 'buyers', name: 'Buyers', segment: 'performed "Order Completed" within 1d' },
    { key: 'pro', segment: stratum.Segment.parse('plan = "pro"') },
  ])
  cdp.ingest(msg('i1', { type: 'identify', userId: 'u1', traits: { plan: 'pro' } }), T0)
  cdp.ingest(msg('o1', { type: 'track', userId: 'u1', event: 'Order Completed' }), T0)
  return cdp
}

test('incremental audiences through Cdp: members, events, the clock, the history', () => {
  const cdp = buyersCdp()
  const [profile] = cdp.profiles()
  assert.deepEqual(cdp.audienceMembers('buyers'), [profile])
  assert.deepEqual(cdp.audienceMembers('nobody'), [])
  const events = cdp.takeTransitions(true)
  assert.deepEqual(events.map((e) => e.event), ['Audience Entered', 'Audience Entered'])
  assert.deepEqual(new Set(events.map((e) => e.properties.audience_key)), new Set(['pro', 'buyers']))
  const buyers = events.find((e) => e.properties.audience_key === 'buyers')
  assert.equal(buyers.properties.audience_name, 'Buyers')
  assert.equal(buyers.userId, profile)
  assert.equal(buyers.type, 'track')
  assert.deepEqual(cdp.takeTransitions(), [])
  // the window slides past the order only when the clock is advanced
  const out = cdp.advanceTime(new Date(Date.parse(T0) + DAY))
  assert.deepEqual(out.map((t) => [t.audience, t.profile, t.kind]), [['buyers', profile, 'exited']])
  assert.equal(out[0].at, '2026-03-03T09:00:00Z')
  assert.deepEqual(cdp.takeTransitions(), out)
  assert.deepEqual(cdp.audienceMembers('buyers'), [])
  assert.deepEqual(cdp.evaluateAudiences(at(DAY)), { buyers: [], pro: [profile] })
  assert.deepEqual(cdp.evaluateAudiences(T0), { buyers: [profile], pro: [profile] })
  assert.deepEqual(cdp.audienceHistory().map((t) => t.kind), ['entered', 'entered', 'exited'])
  assert.throws(() => cdp.advanceTime(T0), (e) => e instanceof stratum.InvalidTimestampError && e.field === 'now')
})

test('audiences are typed at setAudiences, and only before the first message', () => {
  const cdp = new stratum.Cdp()
  assert.throws(() => cdp.setAudiences([{ key: 'a', segment: 'plan =' }]), (e) => e instanceof stratum.SegmentSyntaxError && e.line === 1)
  assert.throws(
    () => cdp.setAudiences([{ key: 'a', segment: 'in audience "b"' }, { key: 'b', segment: { in_audience: 'a' } }]),
    (e) => e instanceof stratum.SegmentCycleError && e.field === null,
  )
  assert.throws(() => cdp.setAudiences([{ key: 'a', segment: 'computed orders >= 3' }]), stratum.UnknownNameError)
  assert.throws(() => cdp.setAudiences([{ key: 'a' }]), stratum.InvalidJsonError)
  assert.deepEqual(cdp.takeTransitions(), [])
  assert.deepEqual(cdp.evaluateAudiences(T0), {})
  const late = buyersCdp()
  assert.throws(() => late.setAudiences([{ key: 'x', segment: 'plan = "x"' }]), (e) => e instanceof stratum.InvalidConfigError && e.field === 'audiences')
})

test('computed traits in audiences', () => {
  const cdp = new stratum.Cdp({ computedTraits: [{ name: 'orders', kind: 'count', event: 'Order Completed' }] })
  cdp.setAudiences([{ key: 'frequent', segment: 'computed orders >= 2' }])
  cdp.ingest(msg('o1', { type: 'track', userId: 'u1', event: 'Order Completed' }), T0)
  assert.deepEqual(cdp.takeTransitions(), [])
  cdp.ingest(msg('o2', { type: 'track', userId: 'u1', event: 'Order Completed' }, at(1000)), at(1000))
  assert.deepEqual(cdp.takeTransitions().map((t) => [t.audience, t.kind]), [['frequent', 'entered']])
})

test('audience sync: consenting members hashed, nothing resent, replayable from the history', () => {
  const cdp = new stratum.Cdp()
  cdp.setAudiences([{ key: 'pro', segment: 'plan = "pro"' }])
  const consent = { consent: { categoryPreferences: { advertising: true } } }
  cdp.ingest(msg('i1', { type: 'identify', userId: 'u1', context: consent, traits: { plan: 'pro', email: ' Ann@Example.com' } }), T0)
  cdp.ingest(msg('i2', { type: 'identify', userId: 'u2', traits: { plan: 'pro', email: 'bob@example.com' } }), T0)
  const n = new stratum.Normalizer({ phone_region: { default: 'US' } })
  const config = { audience: 'pro', platform: 'meta' }
  const first = cdp.syncAudience(n, config)
  const ann = createHash('sha256').update('ann@example.com').digest('hex')
  const bob = createHash('sha256').update('bob@example.com').digest('hex')
  const body = JSON.stringify(first.result.add)
  assert.ok(body.includes(ann) && !body.includes(bob))
  assert.equal(first.result.full, true)
  assert.deepEqual(first.result.added, [cdp.profileOf('user_id', 'u1')])
  assert.deepEqual(first.result.withheld, [cdp.profileOf('user_id', 'u2')])
  assert.equal(first.result.remove, null)
  const again = cdp.syncAudience(n, config, first.state)
  assert.equal(again.result.add, null)
  assert.equal(again.result.remove, null)
  assert.equal(again.result.full, false)
  const replay = cdp.syncAudience(n, config, null, { fromHistory: true })
  assert.deepEqual(replay.result, first.result)
  assert.throws(() => cdp.syncAudience(n, { ...config, platform: 'myspace' }), stratum.InvalidJsonError)
  assert.throws(() => new stratum.Cdp().syncAudience(n, config), (e) => e instanceof stratum.UnknownNameError && e.field === 'audience')
})

test('personAudiences: one person, messages in any order, evaluated at now', () => {
  const request = {
    audiences: [
      { key: 'pro', segment: 'plan = "pro"' },
      { key: 'buyers', segment: { event: { event: 'Order Completed', window: { within: { seconds: 7 * 86400 } } } } },
    ],
    messages: [
      msg('o1', { type: 'track', userId: 'u1', event: 'Order Completed' }, '2026-02-27T10:00:00Z'),
      msg('i1', { type: 'identify', userId: 'u1', traits: { plan: 'pro' } }, '2026-02-01T10:00:00Z'),
    ],
    now: '2026-03-01T12:00:00Z',
  }
  // the profile is named after the earliest message
  const out = stratum.personAudiences(request)
  assert.deepEqual(out, {
    profiles: [{ profile: 'prof:i1', audiences: { buyers: true, pro: true } }],
    members: { buyers: ['prof:i1'], pro: ['prof:i1'] },
  })
  const later = stratum.personAudiences({ ...request, now: '2026-03-10T12:00:00Z' })
  assert.deepEqual(later.members, { buyers: [], pro: ['prof:i1'] })
  assert.throws(
    () => stratum.personAudiences({ ...request, messages: [{ type: 'track', event: 'X', messageId: 'm' }] }),
    (e) => e instanceof stratum.MissingIdentityError && /messages\[0\]/.test(e.message),
  )
})

test('Audiences: full evaluation over columns, one membership per row', () => {
  const audiences = new stratum.Audiences([
    { key: 'pro_spenders', segment: 'plan = "pro" and ltv >= 100.5' },
    { key: 'not_pro', segment: stratum.Segment.parse('not in audience "pro_spenders"') },
    { key: 'ads', segment: { consent: 'advertising' } },
    { key: 'frequent', segment: 'computed orders_30d >= 3' },
  ])
  assert.deepEqual(audiences.keys(), ['pro_spenders', 'not_pro', 'ads', 'frequent'])
  const out = audiences.evaluate({
    columns: {
      plan: ['pro', 'free', 'pro', null],
      ltv: [150, 500, '100.50', 999],
      ads_ok: [true, false, null, true],
      orders: [3, 0, 5, 1],
    },
    computed: { orders_30d: 'orders' },
    consent: { advertising: 'ads_ok' },
  })
  assert.deepEqual(out, {
    pro_spenders: [true, false, false, false],
    not_pro: [false, true, true, true],
    ads: [true, false, false, true],
    frequent: [true, false, true, false],
  })
  audiences.validate({ traits: { plan: 'string', ltv: 'number' }, computed: { orders_30d: 'number' } })
  assert.throws(() => audiences.validate({ traits: { plan: 'string' } }), stratum.UnknownNameError)
  assert.throws(() => audiences.evaluate({ columns: { plan: ['pro'] } }), (e) => e instanceof stratum.UnknownNameError && /ltv/.test(e.message))
  assert.throws(
    () => audiences.evaluate({ columns: { plan: ['pro'], ltv: [1], ads_ok: ['yes'], orders: [1] }, computed: { orders_30d: 'orders' }, consent: { advertising: 'ads_ok' } }),
    stratum.TypeMismatchError,
  )
  assert.throws(
    () => new stratum.Audiences([{ key: 'a', segment: 'in audience "b"' }, { key: 'b', segment: 'in audience "a"' }]),
    stratum.SegmentCycleError,
  )
  assert.throws(() => new stratum.Audiences([{ key: 'f', segment: 'computed orders >= 3' }], []), stratum.UnknownNameError)
  assert.throws(() => new stratum.Audiences([{ key: 'e', segment: 'performed "X"' }]).evaluate({ columns: {} }), stratum.UnknownNameError)
})
