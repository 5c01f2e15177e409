// testdata/normalization.json (digests computed with Python's hashlib) through the
// WASM build: each value's outcome, and hashValues over the same values.
import { test } from "node:test";
import assert from "node:assert/strict";
import { stratum, testdata, thrown } from "./load.mjs";

const doc = testdata("normalization.json");

function normalizerFor(c) {
  return new stratum.Normalizer({ ...doc.defaults, ...(c.config ?? {}) });
}

test("every normalisation vector gives the Rust outcome", () => {
  const failures = [];
  for (const c of doc.cases) {
    const n = normalizerFor(c);
    const [got] = n.normalize({
      platform: c.platform,
      values: [{ field: c.field, value: c.input, country: c.context?.country }],
    }).results;
    n.free();
    const e = c.expected;
    const want = e.warning
      ? { value: null, warning: e.warning }
      : {
          value: e.value,
          origin: e.origin,
          // A key sent in clear is its normalised text, given as `value` only.
          normalized: e.origin === "raw" ? null : (e.normalized ?? null),
          note: e.note ?? null,
          warning: null,
        };
    for (const [k, v] of Object.entries(want)) {
      if (got[k] !== v) failures.push(`${c.id}: ${k} = ${JSON.stringify(got[k])}, expected ${JSON.stringify(v)}`);
    }
  }
  assert.deepEqual(failures, []);
  assert.ok(doc.cases.length > 150);
});

test("hashValues gives each value's digest, null when dropped", () => {
  let checked = 0;
  for (const c of doc.cases) {
    const text = c.input.auto ?? (c.input.raw && c.input.raw.length < 64 ? c.input.raw : undefined);
    if (text === undefined) continue;
    const n = normalizerFor(c);
    const out = n.hashValues({
      platform: c.platform,
      field: c.field,
      values: [text, text],
      ...(c.context?.country ? { country: c.context.country } : {}),
    });
    n.free();
    assert.deepEqual(out.values, [c.expected.value ?? null, c.expected.value ?? null], c.id);
    checked++;
  }
  assert.ok(checked > 100, `${checked}`);
});

test("config errors carry the Rust code and field", () => {
  for (const c of doc.config_errors) {
    const e = thrown(() => new stratum.Normalizer(c.config));
    assert.equal(e.code, c.code, c.id);
    assert.equal(e.field, c.field, c.id);
  }
});
