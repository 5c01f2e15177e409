// Type-checked with `tsc --noEmit --strict`: the declarations are usable as
// written in the README and guide, with real types for configs, decisions,
// reports and errors.
import {
  Audiences,
  AuditLog,
  Cdp,
  Decision,
  HealthConfig,
  InvalidConfigError,
  Normalizer,
  ProposedAction,
  Segment,
  SegmentSyntaxError,
  Signals,
  StratumError,
  TrustGate,
  buildPayloads,
  emqScore,
  parseMessage,
  personAudiences,
  readSegment,
} from '../../index.js'
import type { AudienceEvent, AudienceSync, PersonAudiences, SegmentForms, SegmentJson, Transition } from '../../index.js'
import type { DecisionData, ErrorCode, HealthReport, NormalizedList, Outcome, Platform, SignalsData, TrustGateConfig } from '../../index.js'

const config: TrustGateConfig = { enforcement: 'soft_block', guardrails: { max_change_pct: '30' } }
const signals: SignalsData = { scope: { tenant: 'acme', platform: 'meta', ad_account: 'act_1' } }
const gate = new TrustGate(config)
const action = new ProposedAction({
  kind: { type: 'budget_change', from: '500', to: '550' },
  target: { scope: signals.scope, id: 'cmp_42' },
  proposer: { type: 'autopilot' },
})
const decision: Decision = gate.evaluate(new Signals(signals), action, new Date())
const outcome: Outcome = decision.outcome
const executes: boolean = outcome === 'execute'
const score: number = decision.healthScore
const doc: DecisionData = decision.toJSON()
const seq0: number | null = doc.audit_seq ?? null

const report: HealthReport = new HealthConfig().score(signals, '2026-03-01T12:00:00Z')
const status: 'healthy' | 'degraded' | 'unhealthy' = report.status

async function main(): Promise<void> {
  const log = new AuditLog()
  const d: Decision = await gate.decide(signals, action, log)
  const seq: number | null = d.auditSeq
  const n = new Normalizer({ phone_region: { default: 'US' } })
  const platform: Platform = 'meta'
  const list: NormalizedList = await n.normalizeList(platform, 'email', ['ann@example.com', null])
  const first: string | null = list.values[0] ?? null
  const one = n.normalize(platform, 'email', ' Ann@Example.com ')
  const normalized: string | null = one.normalized
  const s = emqScore(n, { platform, event: { user: { email: { raw: 'ann@example.com' } } } })
  const emq: number = s.score
  const out = await buildPayloads(n, { platform, now: '2026-03-01T12:05:00Z', events: [] })
  const rejected: number = out.rejected.length
  const m = parseMessage('{"type":"track","messageId":"m","userId":"u","event":"e"}', new Date())
  const id: string = m.message_id
  void [seq, seq0, first, normalized, emq, rejected, id, executes, score, status]
}

try {
  new TrustGate({ hysteresis: { window: -1 } })
} catch (e) {
  if (e instanceof InvalidConfigError) {
    const field: string | null = e.field
    const code: ErrorCode = e.code
    void [field, code]
  } else if (e instanceof StratumError) {
    const code: ErrorCode = e.code
    void code
  }
}

void main()

// Segments and audiences.
const seg: Segment = Segment.parse('plan = "pro"')
const tree: SegmentJson = seg.toJson()
seg.validate({ traits: { plan: 'string' } })
const forms: SegmentForms = readSegment({ segment: tree })
const cdp = new Cdp()
cdp.setAudiences([
  { key: 'pro', segment: seg },
  { key: 'buyers', name: 'Buyers', segment: 'performed "Order Completed" within 7d' },
  { key: 'ads', segment: { consent: 'advertising' } },
])
const transitions: Transition[] = cdp.takeTransitions()
const kind: 'entered' | 'exited' | undefined = transitions[0]?.kind
const events: AudienceEvent[] = cdp.takeTransitions(true)
const eventName: 'Audience Entered' | 'Audience Exited' | undefined = events[0]?.event
const members: Record<string, string[]> = cdp.evaluateAudiences(new Date())
const sync: AudienceSync = cdp.syncAudience(new Normalizer({ phone_region: { default: 'US' } }), { audience: 'pro', platform: 'meta' }, null, { fromHistory: true })
const added: string[] = sync.result.added
const person: PersonAudiences = personAudiences({ audiences: [{ key: 'pro', segment: 'plan = "pro"' }], messages: [], now: '2026-03-01T12:00:00Z' })
const isPro: boolean | undefined = person.profiles[0]?.audiences['pro']
try {
  Segment.parse('plan =')
} catch (e) {
  if (e instanceof SegmentSyntaxError) {
    const where: [number | null, number | null] = [e.line, e.column]
    void where
  }
}
const table: Record<string, boolean[]> = new Audiences([{ key: 'pro', segment: seg }]).evaluate({ columns: { plan: ['pro', null] } })
void [forms, kind, eventName, members, added, isPro, sync.state, table]
