// The shared request -> response vectors of testdata/surface, through the Node API:
// the same files run in Rust (bindings/shared/tests/vectors.rs) and Python.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import stratum from '../index.js'
import { REPO, json, matches } from './helpers.mjs'

const ENTRIES = {
  build_payloads: (n, r) => stratum.buildPayloads(n, r),
  build_audience: (n, r) => stratum.buildAudience(n, r),
  normalize: (n, r) => stratum.normalizeValues(n, r),
  emq_score: (n, r) => stratum.emqScore(n, r),
  emq_report: (n, r) => stratum.emqReport(n, r),
  health_score: (n, r) => new stratum.HealthConfig(r.config).score(r.signals, r.now),
  gate_preview: (n, r) => new stratum.TrustGate(r.config).evaluate(r.signals, r.action, r.now).toJSON(),
  parse_message: (n, r) => stratum.parseMessage(r.body, r.received_at, { config: r.config }),
  read_segment: (n, r) => stratum.readSegment(r),
  person_audiences: (n, r) => stratum.personAudiences(r),
  evaluate_table: (n, r) => new stratum.Audiences(r.audiences, r.computed_traits).evaluate(r.table),
}

const dir = join(REPO, 'testdata', 'surface')
const docs = readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => json(`testdata/surface/${f}`))

test('every vector file has an entry here', () => {
  assert.ok(docs.length > 0)
  for (const d of docs) assert.ok(d.entry in ENTRIES, d.entry)
})

for (const doc of docs) {
  for (const c of doc.cases) {
    test(`${doc.entry}: ${c.name}`, async () => {
      const n = new stratum.Normalizer(doc.normalizer ?? { phone_region: { default: 'US' } })
      const call = ENTRIES[doc.entry]
      if ('error' in c) {
        await assert.rejects(async () => call(n, c.request), (e) => {
          assert.ok(e instanceof stratum.StratumError, `${e}`)
          matches({ code: e.code, field: e.field }, c.error, 'error')
          return true
        })
      } else {
        matches(await call(n, c.request), c.response, 'response')
      }
    })
  }
}
