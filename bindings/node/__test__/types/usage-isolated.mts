// Type-checked under `isolatedModules` + `verbatimModuleSyntax` (what esbuild, swc
// and Babel users compile with): no `const enum`, type-only imports marked.
import { TrustGate, errorCodes, StratumError } from '@stratum-sdk/node'
import type { Decision, ErrorCode, Outcome } from '@stratum-sdk/node'

const outcomes: Outcome[] = ['execute', 'alert_only', 'manual_required']
const d: Decision = new TrustGate().evaluate(
  { scope: { tenant: 'acme' } },
  { kind: { type: 'pause' }, target: { scope: { tenant: 'acme' }, id: 'cmp_1' }, proposer: { type: 'autopilot' } },
)
const codes: ErrorCode[] = errorCodes()
const known: boolean = outcomes.includes(d.outcome)
const isError = (e: unknown): e is StratumError => e instanceof StratumError
void [codes, known, isError]
