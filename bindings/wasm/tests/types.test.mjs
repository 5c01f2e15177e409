// The string unions of the shipped declarations against what the module produces:
// a code, warning or key added in Rust fails here until the types name it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { stratum, testdata } from "./load.mjs";

const dts = readFileSync(new URL("../pkg/node/stratum_wasm.d.ts", import.meta.url), "utf8");
function union(name) {
  const m = dts.match(new RegExp(`export type ${name} =([^;]*);`));
  assert.ok(m, `type ${name} is declared`);
  return new Set([...m[1].matchAll(/"([a-z_]+)"/g)].map((x) => x[1]));
}

test("ErrorCode is exactly errorCodes()", () => {
  assert.deepEqual([...union("ErrorCode")].sort(), [...stratum.errorCodes()].sort());
});

test("WarningCode, Field, Platform and EmqKey cover what the module returns", () => {
  const warnings = union("WarningCode");
  const fields = union("Field");
  const keys = union("EmqKey");
  const platforms = union("Platform");
  const n = new stratum.Normalizer(testdata("normalization.json").defaults);
  for (const c of testdata("normalization.json").cases) {
    assert.ok(platforms.has(c.platform), c.platform);
    assert.ok(fields.has(c.field), c.field);
    if (c.expected.warning) assert.ok(warnings.has(c.expected.warning), c.expected.warning);
    if (c.expected.note) assert.ok(warnings.has(c.expected.note), c.expected.note);
  }
  for (const p of platforms) {
    for (const k of n.emqScore({ platform: p, event: {} }).contributions) assert.ok(keys.has(k.key), k.key);
  }
  assert.equal(fields.size, 16);
  assert.equal(keys.size, 14);
});
