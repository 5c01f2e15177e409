// Bad input from JS: a typed error with a stable code, never a crash or a silent
// coercion; a panic inside the addon is an InternalError and the process lives on.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import stratum from '../index.js'

const SIGNALS = { scope: { tenant: 'acme', platform: 'meta', ad_account: 'act_1' } }
const ACTION = {
  kind: { type: 'budget_change', from: '500', to: '550' },
  target: { scope: SIGNALS.scope, id: 'cmp_42' },
  proposer: { type: 'autopilot' },
}
const NOW = '2026-03-01T12:05:00Z'

function isCode(code, cls) {
  return (e) => {
    assert.ok(e instanceof stratum.StratumError, `not a StratumError: ${e}`)
    assert.ok(e instanceof Error)
    if (cls) assert.ok(e instanceof cls, `${e.name} is not ${cls.name}`)
    assert.equal(e.code, code)
    return true
  }
}

test('every code of the crates has its own class', () => {
  for (const code of stratum.errorCodes()) {
    const cls = Object.values(stratum).find((v) => typeof v === 'function' && v.code === code)
    assert.ok(cls, `no class for ${code}`)
    assert.ok(cls.prototype instanceof stratum.StratumError)
  }
})

test('a panic in the addon is an InternalError and the process goes on', () => {
  assert.throws(() => stratum._panicForTest(), isCode('internal', stratum.InternalError))
  assert.throws(() => stratum._panicForTest(), /deliberate panic/)
  assert.equal(new stratum.TrustGate().evaluate(SIGNALS, ACTION, NOW).gate, 'inconclusive')
})

test('an invalid config names its field', () => {
  assert.throws(
    () => new stratum.HealthConfig({ thresholds: { healthy: 10, degraded: 50 } }),
    (e) => isCode('invalid_config', stratum.InvalidConfigError)(e) && e.field === 'health.thresholds.degraded',
  )
  assert.throws(
    () => new stratum.TrustGate({ hysteresis: { windw: 3 } }),
    (e) => isCode('invalid_json', stratum.InvalidJsonError)(e) && e.field === 'hysteresis.windw',
  )
})

test('wrong JS types are typed errors', () => {
  assert.throws(() => stratum.sha256Hex(42), isCode('invalid_json', stratum.InvalidJsonError))
  assert.throws(() => stratum.sha256Hex(undefined), isCode('invalid_json'))
  assert.throws(() => stratum.sha256Hex(null), isCode('invalid_json'))
  assert.throws(() => new stratum.Signals(42), isCode('invalid_json'))
  assert.throws(() => new stratum.Signals(null), isCode('invalid_json'))
  assert.throws(() => new stratum.Signals(undefined), isCode('invalid_json'))
  assert.throws(() => new stratum.TrustGate().evaluate(SIGNALS, ACTION, 12), isCode('invalid_json'))
  assert.throws(() => new stratum.Normalizer({ phone_region: { default: 'US' } }).normalize('meta', 'email', 5), isCode('invalid_json'))
})

test('NaN, Infinity and BigInt are refused, never coerced', () => {
  const bad = { ...SIGNALS, emq: { score: Number.NaN } }
  assert.throws(() => new stratum.Signals(bad), (e) => isCode('invalid_json')(e) && e.field === 'arguments[0].emq.score')
  assert.throws(() => new stratum.HealthConfig({ weights: { emq: Infinity } }), isCode('invalid_json'))
  assert.throws(() => new stratum.HealthConfig({ weights: { emq: 1n } }), isCode('invalid_json'))
  assert.throws(() => new stratum.HealthConfig().statusOf(Number.NaN), isCode('invalid_json'))
})

test('invalid Dates, Maps, Sets and other non-plain objects are refused, never read as absent', () => {
  const gate = new stratum.TrustGate()
  // An invalid Date was read as 1970-01-01.
  assert.throws(
    () => gate.evaluate(SIGNALS, ACTION, new Date('')),
    (e) => isCode('invalid_time', stratum.InvalidTimeError)(e) && e.field === 'arguments[2]',
  )
  assert.throws(
    () => new stratum.Normalizer({ phone_region: { default: 'US' }, today: new Date('') }),
    (e) => isCode('invalid_time')(e) && e.field === 'arguments[0].today',
  )
  for (const bad of [new Map([['tenant', 'acme']]), new Set(['acme']), /acme/, new Error('acme'), new WeakMap()]) {
    assert.throws(
      () => new stratum.Signals({ scope: bad }),
      (e) => isCode('invalid_json', stratum.InvalidJsonError)(e) && e.field === 'arguments[0].scope',
    )
  }
  assert.throws(
    () => new stratum.Normalizer({ phone_region: { default: 'US' } }).normalize('meta', 'email', new Map()),
    isCode('invalid_json'),
  )
  // Valid Dates, boxed strings and the addon's own instances still pass.
  assert.equal(gate.evaluate(SIGNALS, ACTION, new Date(NOW)).toJSON().decided_at, '2026-03-01T12:05:00Z')
  const boxed = new stratum.Signals({ scope: { ...SIGNALS.scope, tenant: new String('acme') } })
  assert.equal(boxed.toJSON().scope.tenant, 'acme')
  assert.equal(gate.evaluate(new stratum.Signals(SIGNALS), new stratum.ProposedAction(ACTION), NOW).gate, 'inconclusive')
})

test('lone surrogates are refused, never replaced', () => {
  assert.throws(() => stratum.sha256Hex('a\uDC00'), isCode('invalid_json'))
  const scope = { tenant: 'ac\uD800me' }
  assert.throws(() => new stratum.Signals({ scope }), (e) => isCode('invalid_json')(e) && e.field === 'arguments[0].scope.tenant')
  // A well-formed pair is fine.
  assert.equal(stratum.sha256Hex('\uD83D\uDE00').length, 64)
})

test('undefined inside an array is refused; an undefined key is absent', () => {
  assert.throws(() => stratum.verifyChain([undefined]), isCode('invalid_json'))
  assert.equal(new stratum.Signals({ ...SIGNALS, emq: undefined }).toJSON().emq, undefined)
})

test('huge arrays are a typed error or a result, never a crash', async () => {
  const n = new stratum.Normalizer({ phone_region: { default: 'US' } })
  const rows = new Array(200_000).fill('ann@example.com')
  const out = await n.normalizeList('meta', 'email', rows)
  assert.equal(out.values.length, rows.length)
  // A wrong argument type is thrown at the call, before any Promise exists.
  assert.throws(
    () => n.normalizeList('meta', 'email', [...rows.slice(0, 10), 7]),
    (e) => isCode('invalid_json')(e) && e.field === 'values[10]',
  )
})

test('an unknown platform or field is a typed error', () => {
  const n = new stratum.Normalizer({ phone_region: { default: 'US' } })
  assert.throws(() => n.normalize('myspace', 'email', 'a@b.co'), (e) => e instanceof stratum.StratumError && e.field !== undefined)
  assert.throws(() => n.normalize('meta', 'shoe_size', 'a@b.co'), (e) => e instanceof stratum.StratumError)
})

test('a time that is not RFC 3339 is InvalidTimeError', () => {
  assert.throws(() => new stratum.TrustGate().evaluate(SIGNALS, ACTION, 'yesterday'), isCode('invalid_time', stratum.InvalidTimeError))
})
