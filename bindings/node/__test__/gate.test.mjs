// Health, the trust gate, guardrails and the audit log across the boundary.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import stratum from '../index.js'
import { ADMIN, NOW, budgetChange, healthySignals } from './fixtures.mjs'

test('a healthy budget change executes, from plain objects or prebuilt ones alike', () => {
  const gate = new stratum.TrustGate()
  const a = gate.evaluate(healthySignals(), budgetChange(), NOW)
  const b = gate.evaluate(new stratum.Signals(healthySignals()), new stratum.ProposedAction(budgetChange()), new Date(NOW))
  assert.equal(a.outcome, 'execute')
  assert.equal(a.gate, 'pass')
  assert.equal(a.executes, true)
  assert.equal(a.healthStatus, 'healthy')
  assert.ok(a.healthScore > 80)
  assert.equal(a.auditSeq, null)
  assert.equal(a.configHash.length, 64)
  assert.equal(a.stoppedByPolicy, false)
  assert.ok(a instanceof stratum.Decision)
  const doc = a.toJSON()
  assert.equal(doc.action.target.id, 'cmp_42')
  assert.equal(doc.outcome, 'execute')
  assert.deepEqual(JSON.parse(JSON.stringify(a)), doc)
  assert.deepEqual(doc, b.toJSON())
  assert.match(a.explain().toLowerCase(), /execute/)
})

test('unhealthy signals hold automation', () => {
  const s = healthySignals()
  Object.assign(s.api, { succeeded: 200, rate_limited: 0, server_errors: 1800 })
  s.emq.score = 1.0
  const d = new stratum.TrustGate().evaluate(s, budgetChange(), NOW)
  assert.notEqual(d.outcome, 'execute')
  assert.notEqual(d.healthStatus, 'healthy')
})

test('a guardrail stops a large change', () => {
  const d = new stratum.TrustGate({ guardrails: { max_change_pct: '30' } }).evaluate(healthySignals(), budgetChange('500', '900'), NOW)
  assert.notEqual(d.outcome, 'execute')
  assert.ok(d.stoppedByPolicy)
  assert.ok(d.toJSON().violations.length > 0)
})

test('health scores and statuses', () => {
  const cfg = new stratum.HealthConfig()
  const r = cfg.score(healthySignals(), NOW)
  assert.equal(r.status, 'healthy')
  assert.ok(r.score > 80 && r.score <= 100)
  assert.equal(r.config_hash, cfg.configHash)
  assert.equal(cfg.statusOf(0), 'unhealthy')
  assert.match(stratum.explainHealth(r), /acme\/meta\/act_1: 94.5\/100 \(Healthy\)/)
})

test('decide writes one audit record; the chain verifies', async () => {
  const gate = new stratum.TrustGate()
  const log = new stratum.AuditLog()
  const d = await gate.decide(healthySignals(), budgetChange(), log, NOW)
  assert.equal(d.auditSeq, 0)
  assert.equal(log.length, 1)
  const anchor = await log.verify()
  assert.equal(anchor.len, 1)
  const [record] = await log.records()
  assert.equal(record.event.decision.outcome, 'execute')
  assert.equal((await stratum.verifyChain(await log.records())).len, 1)
})

test('decideWithHealth refuses a report of another config', async () => {
  const gate = new stratum.TrustGate()
  const log = new stratum.AuditLog()
  const lenient = new stratum.HealthConfig({ weights: { emq: 1.0, api_health: 0.0, event_loss: 0.0, platform_stability: 0.0, data_quality: 0.0 } })
  await assert.rejects(gate.decideWithHealth(lenient.score(healthySignals(), NOW), budgetChange(), log, NOW), stratum.HealthConfigMismatchError)
  const d = await gate.decideWithHealth(new stratum.HealthConfig().score(healthySignals(), NOW), budgetChange(), log, NOW)
  assert.equal(d.outcome, 'execute')
})

test('overrides are granted and revoked by people only', async () => {
  const gate = new stratum.TrustGate()
  const log = new stratum.AuditLog()
  const action = budgetChange()
  const granted = await gate.grantOverride(
    { target: action.target, granted_by: ADMIN, reason: 'launch week, approved', expires_at: '2026-03-01T14:00:00Z' },
    log, NOW,
  )
  assert.deepEqual(gate.overrides().map((o) => o.id), [granted.id])
  await assert.rejects(gate.revokeOverride(granted.id, { type: 'autopilot' }, 'cleanup', log, NOW), (e) => e instanceof stratum.OverrideRefusedError && e.code === 'override_refused')
  await gate.revokeOverride(granted.id, ADMIN, 'not needed', log, NOW)
  assert.deepEqual(gate.overrides(), [])
  assert.deepEqual(gate.state().overrides, [])
  const records = await log.records()
  assert.equal(records.at(-1).event.override_revoked.id, granted.id)
})

test('automation cannot change the config; a person can, audited', async () => {
  const gate = new stratum.TrustGate()
  const log = new stratum.AuditLog()
  const before = gate.configHash
  const lax = { health: { thresholds: { healthy: 0.01, degraded: 0.0 } } }
  await assert.rejects(gate.setConfig(lax, { type: 'autopilot' }, log, NOW), (e) => e instanceof stratum.NotPermittedError && e.field === 'by')
  assert.equal(gate.configHash, before)
  assert.equal(log.length, 0)
  await gate.setConfig(lax, ADMIN, log, NOW)
  assert.notEqual(gate.configHash, before)
  const change = (await log.records()).at(-1).event.config_changed
  assert.deepEqual([change.previous, change.config_hash], [before, gate.configHash])
})

test('state survives a restart through fromState', async () => {
  const gate = new stratum.TrustGate()
  const log = new stratum.AuditLog()
  await gate.decide(healthySignals(), budgetChange(), log, NOW)
  const again = stratum.TrustGate.fromState(JSON.parse(JSON.stringify(gate.state())), gate.config())
  assert.ok(again instanceof stratum.TrustGate)
  assert.deepEqual(again.state(), gate.state())
})

test('one gate shared by concurrent Promises stays consistent', async () => {
  const gate = new stratum.TrustGate()
  const log = new stratum.AuditLog()
  const n = 64
  const decisions = await Promise.all(Array.from({ length: n }, () => gate.decide(healthySignals(), budgetChange(), log, NOW)))
  assert.deepEqual(decisions.map((d) => d.auditSeq).sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i))
  assert.equal(log.length, n)
  assert.equal((await log.verify()).len, n)
})

test('a file-backed log is appended, reopened and verified', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stratum-audit-'))
  try {
    const path = join(dir, 'audit.jsonl')
    const log = new stratum.AuditLog(path, 'never')
    await new stratum.TrustGate().decide(healthySignals(), budgetChange(), log, NOW)
    const head = log.head
    const lines = readFileSync(path, 'utf8').trim().split('\n')
    assert.equal(lines.length, 1)
    assert.equal(JSON.parse(lines[0]).digest ?? head, head)
    assert.equal((await log.verify()).len, 1)
    // One writer per file: a second one is refused while the first is open.
    assert.throws(() => new stratum.AuditLog(path), (e) => e instanceof stratum.AuditLockedError && e.code === 'audit_locked')
    assert.throws(() => stratum.AuditLog.openRecovering(path, ADMIN, NOW), stratum.AuditLockedError)
    assert.throws(() => new stratum.AuditLog(join(dir, 'other.jsonl'), 'sometimes'), (e) => e instanceof stratum.InvalidConfigError && e.field === 'fsync')
    const fresh = stratum.AuditLog.openRecovering(join(dir, 'fresh.jsonl'), ADMIN, NOW)
    assert.ok(fresh instanceof stratum.AuditLog)
    assert.equal(fresh.tornTail, null)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('guardrails check and record', () => {
  const g = new stratum.Guardrails({ max_change_pct: '30' })
  const big = new stratum.ProposedAction(budgetChange('500', '900'))
  assert.ok(g.check(big, NOW).length > 0)
  const small = new stratum.ProposedAction(budgetChange('500', '510'))
  assert.deepEqual(g.check(small, NOW), [])
  g.record(small, NOW)
  assert.equal(small.kind, 'budget_change')
})

test('openRecovering cuts off a torn last line and returns its exact bytes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stratum-torn-'))
  try {
    const path = join(dir, 'audit.jsonl')
    // Another process writes one record and exits (releasing the file).
    const index = new URL('../index.js', import.meta.url).pathname
    const script = `const s = require(${JSON.stringify(index)}); const log = new s.AuditLog(${JSON.stringify(path)});
      new s.TrustGate().decide({ scope: ${JSON.stringify(budgetChange().target.scope)} }, ${JSON.stringify(budgetChange())}, log, '${NOW}').then(() => process.exit(0))`
    execFileSync(process.execPath, ['-e', script])
    const good = statSync(path).size
    const torn = Buffer.from([0x7b, 0x22, 0x76, 0x22, 0x3a, 0xff, 0xfe]) // '{"v":' then bytes that are not UTF-8
    appendFileSync(path, torn)
    const log = stratum.AuditLog.openRecovering(path, ADMIN, NOW)
    const tail = log.tornTail
    assert.ok(tail)
    assert.equal(tail.offset, good)
    assert.ok(Buffer.isBuffer(tail.bytes))
    assert.deepEqual([...tail.bytes], [...torn])
    assert.equal(tail.digest.length, 64)
    assert.equal((await log.verify()).len, 2)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
