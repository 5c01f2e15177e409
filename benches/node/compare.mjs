// Side by side in one run (same machine, same moment):
//
// 1. Batch normalise + SHA-256 of 1 M emails: the addon's `normalizeList` (array
//    of strings, and a Buffer of lines) against a plain Node loop doing the same
//    normalisation (trim, NFC, lowercase, a shape check) with
//    `crypto.createHash('sha256')`. The digests are checked to agree.
// 2. One `gate.evaluate` with prebuilt `Signals` / `ProposedAction`: the JS-level
//    time per call against the engine time of the same call measured inside the
//    addon (`engineSeconds`); the difference is the binding's overhead.
//
//   node benches/node/compare.mjs            # N=1000000 by default
//   N=200000 node benches/node/compare.mjs
import { createHash } from 'node:crypto'
import { availableParallelism } from 'node:os'
import stratum from '../../bindings/node/index.js'

const N = Number(process.env.N ?? 1_000_000)
const ROUNDS = Number(process.env.ROUNDS ?? 3)

// Deterministic data (fixed seed): mixed case, stray spaces, some invalid rows.
let seed = 42
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648)
const NAMES = ['ann', 'Bob', 'carla.m', 'DAVID', 'eve_99', 'frank+promo', 'Gülşen', 'hiro']
const DOMAINS = ['example.com', 'Mail.Example.org', 'shop.test', 'EXAMPLE.net']
const emails = Array.from({ length: N }, (_, i) => {
  const name = NAMES[Math.floor(rand() * NAMES.length)]
  const domain = DOMAINS[Math.floor(rand() * DOMAINS.length)]
  const pad = rand() < 0.2 ? '  ' : ''
  return rand() < 0.01 ? `not-an-email-${i}` : `${pad}${name}${i}@${domain}${pad}`
})

const SHAPE = /^[^@\s]+@[^@\s]+\.[^@\s]+$/
function plainLoop(rows) {
  const out = new Array(rows.length)
  for (let i = 0; i < rows.length; i++) {
    const s = rows[i].trim().normalize('NFC').toLowerCase()
    out[i] = SHAPE.test(s) ? createHash('sha256').update(s, 'utf8').digest('hex') : null
  }
  return out
}

async function best(fn) {
  let min = Infinity
  let result
  for (let r = 0; r < ROUNDS; r++) {
    const t = process.hrtime.bigint()
    result = await fn()
    min = Math.min(min, Number(process.hrtime.bigint() - t) / 1e9)
  }
  return { seconds: min, result }
}

const n = new stratum.Normalizer({ phone_region: { default: 'US' } })
const buffer = Buffer.from(emails.join('\n'))

console.log(`normalise + SHA-256 of ${N.toLocaleString('en')} emails, best of ${ROUNDS}, ${availableParallelism()} cores`)
const plain = await best(() => plainLoop(emails))
const list = await best(() => n.normalizeList('meta', 'email', emails))
const buf = await best(() => n.normalizeList('meta', 'email', buffer))
const colList = await best(() => n.hashColumn('meta', 'email', emails))
const col = await best(() => n.hashColumn('meta', 'email', buffer))

let agree = 0
for (let i = 0; i < N; i++) {
  if (plain.result[i] !== null && plain.result[i] === list.result.values[i]) agree++
}
const valid = plain.result.filter((v) => v !== null).length
if (agree !== valid) throw new Error(`digests disagree: ${agree} of ${valid} valid rows match`)
if (buf.result.values.some((v, i) => v !== list.result.values[i])) throw new Error('Buffer and array results differ')
const digestAt = (i) => (col.result.kept[i] ? col.result.digests.toString('latin1', i * 64, (i + 1) * 64) : null)
for (let i = 0; i < N; i += 997) {
  if (digestAt(i) !== list.result.values[i]) throw new Error(`hashColumn row ${i} differs`)
}
if (Buffer.compare(colList.result.digests, col.result.digests) !== 0) throw new Error('hashColumn of strings and of a Buffer differ')

const rate = (s) => `${(N / s / 1e6).toFixed(2)} M/s`
console.log(`  plain Node loop (createHash)     ${plain.seconds.toFixed(3)} s  ${rate(plain.seconds)}`)
console.log(`  addon normalizeList(string[])    ${list.seconds.toFixed(3)} s  ${rate(list.seconds)}  ${(plain.seconds / list.seconds).toFixed(2)}x`)
console.log(`  addon normalizeList(Buffer)      ${buf.seconds.toFixed(3)} s  ${rate(buf.seconds)}  ${(plain.seconds / buf.seconds).toFixed(2)}x`)
console.log(`  addon hashColumn(string[])       ${colList.seconds.toFixed(3)} s  ${rate(colList.seconds)}  ${(plain.seconds / colList.seconds).toFixed(2)}x`)
console.log(`  addon hashColumn(Buffer)         ${col.seconds.toFixed(3)} s  ${rate(col.seconds)}  ${(plain.seconds / col.seconds).toFixed(2)}x`)
console.log(`  (${agree.toLocaleString('en')} digests identical to the plain loop's)`)

// 2. gate.evaluate overhead.
const OBSERVED = '2026-03-01T11:00:00Z'
const scope = { tenant: 'acme', platform: 'meta', ad_account: 'act_1' }
const signals = new stratum.Signals({
  scope,
  emq: { observed_at: OBSERVED, score: 8.6, events: 12000 },
  api: { observed_at: OBSERVED, total: 2000, succeeded: 1990, p95_latency_ms: 420.0, rate_limited: 6, server_errors: 4, bursts: 0 },
  events: { observed_at: OBSERVED, sent: 12000, confirmed: 11820, duplicates: 0 },
  stability: { observed_at: OBSERVED, incidents: 0, error_rates: [0.004, 0.006, 0.005] },
  data_quality: { observed_at: OBSERVED, total: 12000, valid: 11900, stale: 40 },
})
const action = new stratum.ProposedAction({
  kind: { type: 'budget_change', from: '500', to: '550' }, target: { scope, id: 'cmp_42' }, proposer: { type: 'autopilot' },
})
const gate = new stratum.TrustGate()
const now = new Date('2026-03-01T12:00:00Z')
const CALLS = 20_000
for (let i = 0; i < 2000; i++) gate.evaluate(signals, action, now)
let jsBest = Infinity
let engineBest = Infinity
for (let r = 0; r < ROUNDS; r++) {
  const t = process.hrtime.bigint()
  for (let i = 0; i < CALLS; i++) gate.evaluate(signals, action, now)
  jsBest = Math.min(jsBest, Number(process.hrtime.bigint() - t) / 1e3 / CALLS)
  engineBest = Math.min(engineBest, gate.engineSeconds(signals, action, now, CALLS) * 1e6)
}
console.log(`gate.evaluate with prebuilt objects, best of ${ROUNDS} x ${CALLS.toLocaleString('en')} calls`)
console.log(`  JS call            ${jsBest.toFixed(2)} µs`)
console.log(`  engine (in addon)  ${engineBest.toFixed(2)} µs`)
console.log(`  binding overhead   ${(jsBest - engineBest).toFixed(2)} µs`)
