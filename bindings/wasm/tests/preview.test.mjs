// The one-event preview: hashed keys, score with contributions, ranked fixes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { stratum } from "./load.mjs";

const n = new stratum.Normalizer({ phone_region: { default: "US" }, today: "2026-03-01" });

test("keys, score and fixes of one event", () => {
  const p = n.emqPreview({
    platform: "meta",
    event: { user: { email: { raw: " Ann@Example.com" }, phone: { raw: "call me" }, client_ip: { raw: "203.0.113.7" }, user_agent: { raw: "Mozilla/5.0" } } },
  });
  // hashlib.sha256(b"ann@example.com").hexdigest()
  const email = p.keys.find((k) => k.field === "email");
  assert.equal(email.key, "em");
  assert.equal(email.normalized, "ann@example.com");
  assert.equal(email.value, "71d4f55f72fa128dfb468a1a3901507c804b74316488744d769d7f4b16696476");
  assert.equal(p.keys.find((k) => k.field === "phone").warning, "phone_letters");
  // Σ_R w = 14 on Meta: email 3 + IP + UA 2 → 10 · 5 / 14 = 3.57 → 3.6
  assert.equal(p.score.score, 3.6);
  assert.equal(p.score.contributions.find((c) => c.key === "phone").state, "invalid");
  assert.equal(p.fixes[0].key, "click_id");
  assert.equal(p.fixes[0].estimated_emq_gain, 2.14);
  const gains = p.fixes.map((f) => f.estimated_emq_gain);
  assert.deepEqual(gains, [...gains].sort((a, b) => b - a));
  assert.ok(!p.fixes.some((f) => f.key === "email"));
  // The same score as emqScore and the same fixes as a one-event report.
  const event = { user: { email: { raw: " Ann@Example.com" }, phone: { raw: "call me" }, client_ip: { raw: "203.0.113.7" }, user_agent: { raw: "Mozilla/5.0" } } };
  assert.deepEqual(p.score, n.emqScore({ platform: "meta", event }));
  assert.deepEqual(p.fixes, n.emqReport({ platform: "meta", events: [event] }).fixes);
});

test("a ROAS model puts a money estimate on each fix", () => {
  const p = n.emqPreview({
    platform: "tiktok",
    event: { user: { email: { raw: "ann@example.com" } } },
    options: { roas: { attributed_revenue: "1000", spend: "250" } },
  });
  assert.ok(p.fixes.length > 0);
  for (const f of p.fixes) assert.equal(typeof f.roas_impact.roas_delta, "string");
});

test("the JavaScript glue reads no clock", () => {
  for (const target of ["node", "web"]) {
    const dir = new URL(`../pkg/${target}/`, import.meta.url);
    // The glue and its snippets (the argument check of convert.rs).
    const files = ["stratum_wasm.js", ...readdirSync(dir, { recursive: true }).filter((f) => f.startsWith("snippets") && f.endsWith(".js"))];
    assert.ok(files.length > 1, target);
    for (const file of files) {
      const glue = readFileSync(new URL(file, dir), "utf8");
      assert.doesNotMatch(glue, /Date\.now|new Date|performance\.now/, `${target}/${file}`);
    }
  }
});
