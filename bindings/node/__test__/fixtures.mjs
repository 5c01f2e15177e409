export const NOW = '2026-03-01T12:00:00Z'
export const OBSERVED = '2026-03-01T11:00:00Z'
export const SCOPE = { tenant: 'acme', platform: 'meta', ad_account: 'act_1' }

export function healthySignals() {
  return {
    scope: { ...SCOPE },
    emq: { observed_at: OBSERVED, score: 8.6, events: 12000 },
    api: {
      observed_at: OBSERVED, total: 2000, succeeded: 1990, p95_latency_ms: 420.0,
      rate_limited: 6, server_errors: 4, bursts: 0,
    },
    events: { observed_at: OBSERVED, sent: 12000, confirmed: 11820, duplicates: 0 },
    stability: { observed_at: OBSERVED, incidents: 0, error_rates: [0.004, 0.006, 0.005] },
    data_quality: { observed_at: OBSERVED, total: 12000, valid: 11900, stale: 40 },
  }
}

export function budgetChange(from = '500', to = '550', proposer = { type: 'autopilot' }) {
  return {
    kind: { type: 'budget_change', from, to },
    target: { scope: { ...SCOPE }, id: 'cmp_42' },
    proposer,
  }
}

export const ADMIN = { type: 'person', id: 'u_1', role: 'admin' }
