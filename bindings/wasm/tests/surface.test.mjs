// The shared request → response vectors (testdata/surface/*.json), run against the
// WASM build: every host must give the responses the Rust surface gives.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { stratum, testdata, mismatch } from "./load.mjs";

const entries = {
  build_payloads: (n, r) => n.buildPayloads(r),
  build_audience: (n, r) => n.buildAudience(r),
  normalize: (n, r) => n.normalize(r),
  emq_score: (n, r) => n.emqScore(r),
  emq_report: (n, r) => n.emqReport(r),
  health_score: (_, r) => stratum.healthScore(r),
  gate_preview: (_, r) => stratum.gatePreview(r),
  parse_message: (_, r) => stratum.parseMessage(r),
  read_segment: (_, r) => stratum.readSegment(r),
  person_audiences: (_, r) => stratum.personAudiences(r),
  evaluate_table: (_, r) => stratum.evaluateTable(r),
};

const dir = fileURLToPath(new URL("../../../testdata/surface/", import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith(".json"));

test("every vector file has an entry here", () => {
  assert.deepEqual(files.map((f) => f.replace(/\.json$/, "")).sort(), Object.keys(entries).sort());
});

for (const file of files) {
  const doc = testdata(`surface/${file}`);
  test(`surface vectors: ${doc.entry}`, () => {
    const call = entries[doc.entry];
    const n = new stratum.Normalizer(doc.normalizer ?? { phone_region: { default: "US" } });
    assert.ok(doc.cases.length > 0);
    const failures = [];
    for (const c of doc.cases) {
      let out;
      try {
        out = { response: call(n, c.request) };
      } catch (e) {
        assert.equal(e.name, "StratumError", `${c.name}: ${e}`);
        out = { error: { code: e.code, field: e.field, message: e.message } };
      }
      const expected = "response" in c ? { response: c.response } : { error: c.error };
      const why = mismatch(out, expected);
      if (why) failures.push(`${doc.entry} / ${c.name}: ${why}`);
    }
    assert.deepEqual(failures, []);
    n.free();
  });
}
