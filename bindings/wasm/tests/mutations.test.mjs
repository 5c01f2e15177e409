// Mutated shared vectors (a fixed seed): every request of testdata/surface/ with
// values swapped for extremes (huge and tiny numbers and decimals, times at chrono's
// limits, long and odd strings, wrong types). Each call gives a result or a typed
// error with a code of the list, never `internal` (a panic) nor a bare RuntimeError.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { stratum, testdata } from "./load.mjs";

const n = new stratum.Normalizer({ phone_region: { default: "US" }, today: "2026-03-01" });
const entries = {
  build_payloads: (r) => n.buildPayloads(r), build_audience: (r) => n.buildAudience(r),
  normalize: (r) => n.normalize(r), emq_score: (r) => n.emqScore(r), emq_report: (r) => n.emqReport(r),
  health_score: (r) => stratum.healthScore(r), gate_preview: (r) => stratum.gatePreview(r),
  parse_message: (r) => stratum.parseMessage(r),
  read_segment: (r) => stratum.readSegment(r), person_audiences: (r) => stratum.personAudiences(r),
  evaluate_table: (r) => stratum.evaluateTable(r),
};
const dir = fileURLToPath(new URL("../../../testdata/surface/", import.meta.url));
const seeds = readdirSync(dir).filter((f) => f.endsWith(".json"))
  .flatMap((f) => { const d = testdata(`surface/${f}`); return d.cases.map((c) => [d.entry, c.request]); });
const extremes = [
  0, -1, 1e308, -1e308, 5e-324, 2 ** 53, 18446744073709551615, 4294967296, -0, 1.5,
  "79228162514264337593543950335", "-79228162514264337593543950335", "0.0000000000000000000000000001",
  "1e28", "NaN", "", "x".repeat(10000), "\u0000", "１２３", "e\u0301", "+999999999999999999999",
  "+262142-01-01T00:00:00Z", "-262143-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "1970-01-01T00:00:00Z",
  null, true, [], {},
];

test("mutated requests give results or typed errors", () => {
  let seed = 12345;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const pick = (a) => a[Math.floor(rnd() * a.length)];
  const mutate = (v) => {
    if (Array.isArray(v)) return v.map((x) => (rnd() < 0.2 ? pick(extremes) : mutate(x)));
    if (v && typeof v === "object") {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, rnd() < 0.15 ? pick(extremes) : mutate(x)]));
    }
    return rnd() < 0.1 ? pick(extremes) : v;
  };
  const codes = new Set(stratum.errorCodes());
  const outcomes = { ok: 0, error: 0 };
  for (let i = 0; i < 5000; i++) {
    const [entry, request] = pick(seeds);
    const mutated = mutate(request);
    try {
      entries[entry](mutated);
      outcomes.ok++;
    } catch (e) {
      const where = `${entry} ${JSON.stringify(mutated).slice(0, 300)}`;
      assert.equal(e.name, "StratumError", `${e}: ${where}`);
      assert.ok(codes.has(e.code) && e.code !== "internal", `${e.code} ${e.message}: ${where}`);
      outcomes.error++;
    }
  }
  assert.ok(outcomes.ok > 500 && outcomes.error > 500, JSON.stringify(outcomes));
});
