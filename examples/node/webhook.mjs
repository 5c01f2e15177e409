// A webhook receiver on plain `node:http` (no framework): it parses Segment
// messages, normalises and scores their customer information (EMQ), and gates the
// budget changes an optimiser proposes.
//
//   node examples/node/webhook.mjs            # listens on PORT (default 8080)
//
//   POST /events   a Segment message        -> its id, EMQ score and hashed keys
//   POST /budget   {signals, campaign, from, to}
//                                           -> the gate's decision (audited)
import { createServer } from 'node:http'
import { fileURLToPath } from 'node:url'
import stratum from '../../bindings/node/index.js'

const { AuditLog, Normalizer, StratumError, TrustGate, emqScore, parseMessage } = stratum

/** The receiver's state: one normaliser, one gate and its audit log. */
export function createApp({ gateConfig = {}, auditPath = undefined } = {}) {
  const normalizer = new Normalizer({ phone_region: { default: 'US' } })
  const gate = new TrustGate(gateConfig)
  const audit = new AuditLog(auditPath, 'always')

  async function events(body, receivedAt) {
    const message = parseMessage(body, receivedAt)
    const traits = { ...(message.context?.traits ?? {}), ...(message.traits ?? {}) }
    const user = {}
    for (const field of ['email', 'phone', 'first_name', 'last_name']) {
      if (typeof traits[field] === 'string') user[field] = { raw: traits[field] }
    }
    const score = emqScore(normalizer, { platform: 'meta', event: { user, event_id: message.message_id } })
    const keys = Object.fromEntries(
      Object.entries(user).map(([field, value]) => [field, normalizer.normalize('meta', field, value).value]),
    )
    return { message_id: message.message_id, emq: score.score, keys }
  }

  async function budget(body) {
    const request = JSON.parse(body.toString('utf8'))
    const action = {
      kind: { type: 'budget_change', from: String(request.from), to: String(request.to) },
      target: { scope: request.signals.scope, id: request.campaign },
      proposer: { type: 'autopilot' },
    }
    const d = await gate.decide(request.signals, action, audit, request.now)
    return { outcome: d.outcome, gate: d.gate, health: d.healthScore, audit_seq: d.auditSeq }
  }

  const routes = { '/events': events, '/budget': budget }

  return createServer((req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', async () => {
      const route = req.method === 'POST' ? routes[req.url] : undefined
      const send = (status, doc) => {
        res.writeHead(status, { 'content-type': 'application/json' })
        res.end(JSON.stringify(doc))
      }
      if (!route) return send(404, { code: 'not_found', field: null, message: `no route ${req.method} ${req.url}` })
      try {
        send(200, await route(Buffer.concat(chunks), new Date()))
      } catch (e) {
        if (e instanceof StratumError) return send(422, { code: e.code, field: e.field, message: e.message })
        if (e instanceof SyntaxError) return send(400, { code: 'invalid_json', field: null, message: e.message })
        send(500, { code: 'internal', field: null, message: 'internal error' })
      }
    })
  })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = Number(process.env.PORT ?? 8080)
  createApp().listen(port, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${port}`))
}
