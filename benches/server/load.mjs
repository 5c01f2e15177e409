// Ingest load: POST /v1/batch with `EVENTS` track messages per request (unique
// messageIds, so nothing is absorbed as a duplicate), over `CONNECTIONS`
// connections for `SECONDS`, optionally capped at `RATE` requests per second.
// Prints one JSON line: requests, events/s, latency percentiles (ms), errors.
//
//   node load.mjs URL WRITE_KEY [CONNECTIONS=16] [SECONDS=60] [EVENTS=100] [RATE=0]
import autocannon from 'autocannon'

const [url, key, connections = '16', seconds = '60', events = '100', rate = '0'] = process.argv.slice(2)
const n = Number(events)
const auth = 'Basic ' + Buffer.from(`${key}:`).toString('base64')
let seq = 0
const prefix = Math.random().toString(36).slice(2, 10)
const context = { library: { name: 'load', version: '1' }, ip: '203.0.113.7' }

function body() {
  const batch = []
  for (let i = 0; i < n; i++) {
    const id = seq++
    batch.push({
      type: 'track',
      event: 'Order Completed',
      userId: `user-${id % 50000}`,
      messageId: `${prefix}-${id}`,
      timestamp: new Date().toISOString(),
      properties: { order_id: `o-${id}`, total: 49.99 + (id % 100), currency: 'EUR', items: 3 },
    })
  }
  return JSON.stringify({ batch, context })
}

const opts = {
  url: `${url}/v1/batch`,
  connections: Number(connections),
  duration: Number(seconds),
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization: auth },
  requests: [{ setupRequest: (req) => ({ ...req, body: body() }) }],
}
if (Number(rate) > 0) opts.overallRate = Number(rate)

const result = await autocannon(opts)
const ok = result['2xx']
console.log(JSON.stringify({
  requests: result.requests.total,
  ok,
  errors: result.errors + result.timeouts + result.non2xx,
  events_per_s: Math.round((ok * n) / result.duration),
  requests_per_s: Math.round(ok / result.duration),
  latency_ms: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
  seconds: result.duration,
}))
