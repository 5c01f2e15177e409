// Type-checked with `tsc --noEmit --strict` against the generated declarations:
// the requests and responses of the package as a TypeScript user writes them.
import init, {
  Normalizer,
  Segment,
  errorCodes,
  gatePreview,
  healthScore,
  evaluateTable,
  personAudiences,
  readSegment,
  type EmqPreview,
  type ErrorCode,
  type HashResponse,
  type PersonAudiences,
  type SegmentForms,
  type SegmentJson,
  type StratumError,
} from "../pkg/web/stratum_wasm.js";

export async function main(): Promise<number> {
  await init();
  const n = new Normalizer({ phone_region: { default: "US" }, today: "2026-03-01" });
  const preview: EmqPreview = n.emqPreview({
    platform: "meta",
    event: { user: { email: { raw: "ann@example.com" }, birth_date: { date: "1990-02-01" } } },
    options: { roas: { attributed_revenue: "1000", spend: "250" } },
  });
  const best: string | undefined = preview.fixes[0]?.remediation;
  const hashed: HashResponse = n.hashValues({ platform: "google", field: "email", values: ["a@b.co"] });
  const first: string | null = hashed.values[0] ?? null;
  const health = healthScore({ signals: { scope: { tenant: "acme" } }, now: new Date() });
  const status: "healthy" | "degraded" | "unhealthy" = health.status;
  const decision = gatePreview({
    signals: { scope: { tenant: "acme" } },
    action: {
      kind: { type: "budget_change", from: "500", to: "550" },
      target: { scope: { tenant: "acme" }, id: "cmp_42" },
      proposer: { type: "autopilot" },
    },
    now: "2026-03-01T12:05:00Z",
  });
  const codes: ErrorCode[] = errorCodes();
  try {
    n.emqScore({ platform: "meta", event: {} });
  } catch (e) {
    const err = e as StratumError;
    const code: ErrorCode = err.code;
    const field: string | null = err.field;
    void code;
    void field;
  }
  const seg: Segment = Segment.parse('plan = "pro"');
  const tree: SegmentJson = seg.toJson();
  seg.validate({ traits: { plan: "string" } });
  const forms: SegmentForms = readSegment({ segment: tree, schema: { traits: { plan: "string" } } });
  const person: PersonAudiences = personAudiences({
    audiences: [{ key: "pro", segment: seg.toText() }, { key: "ads", segment: { consent: "advertising" } }],
    computed_traits: [{ name: "orders", kind: "count", event: "Order Completed" }],
    messages: [{ type: "identify", userId: "u1", messageId: "i1", traits: { plan: "pro" } }],
    now: new Date(),
  });
  const isPro: boolean | undefined = person.profiles[0]?.audiences["pro"];
  try {
    Segment.parse("plan =");
  } catch (e) {
    const err = e as StratumError;
    const where: [number | undefined, number | undefined] = [err.line, err.column];
    void where;
  }
  seg.free();
  const rows: Record<string, boolean[]> = evaluateTable({ audiences: [{ key: "pro", segment: tree }], table: { columns: { plan: ["pro"] } } });
  void [forms, isPro, rows];
  n.free();
  return preview.score.score + (best?.length ?? 0) + (first?.length ?? 0) + status.length + decision.health.score + codes.length;
}
