// Segments and the one-person audience preview through the WASM build: both forms,
// typed errors with line and column, validation, evaluation at an explicit `now`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { stratum, thrown } from "./load.mjs";

const { Segment, readSegment, personAudiences, evaluateTable } = stratum;

test("the text and JSON forms round-trip", () => {
  const s = Segment.parse('performed "Order Completed" at least 2 times within 30d where properties.total > 50 and plan = "pro"');
  const j = s.toJson();
  assert.deepEqual(j.and[1], { trait: { name: "plan", op: "eq", value: { string: "pro" } } });
  assert.deepEqual(j.and[0].event.window, { within: { seconds: 2592000 } });
  const back = Segment.fromJson(j);
  assert.equal(back.toText(), s.toText());
  assert.deepEqual(back.toJson(), j);
  assert.equal(Segment.parse(s.toText()).toText(), s.toText());
  assert.deepEqual(JSON.parse(JSON.stringify(s)), j);
  for (const x of [s, back]) x.free();
});

test("a syntax error carries its code, field, line and column", () => {
  const e = thrown(() => Segment.parse('plan = "pro" and\n  performed 12'));
  assert.equal(e.name, "StratumError");
  assert.ok(e instanceof Error);
  assert.equal(e.code, "segment_syntax");
  assert.equal(e.field, "2:13");
  assert.equal(e.line, 2);
  assert.equal(e.column, 13);
  assert.match(e.message, /event name/);
  const other = thrown(() => Segment.parse('plan > "pro"'));
  assert.equal(other.code, "type_mismatch");
  assert.equal(other.line, undefined);
  assert.equal(thrown(() => Segment.parse('performed "X" within 0d')).code, "segment_limit");
  assert.equal(thrown(() => Segment.fromJson({ trait: { name: "plan", op: "equals" } })).code, "invalid_json");
});

test("validation names the unknown name and suggests the closest", () => {
  const schema = { traits: { plan: "string", age: "number" } };
  const ok = Segment.parse('plan = "pro" and age > 3');
  ok.validate(schema);
  const e = thrown(() => Segment.parse('plna = "pro"').validate(schema));
  assert.equal(e.code, "unknown_name");
  assert.equal(e.field, "$.trait.name");
  assert.match(e.message, /did you mean "plan"/);
  assert.equal(thrown(() => Segment.parse('age = "old"').validate(schema)).code, "type_mismatch");
  ok.free();
});

test("readSegment gives both forms of either form", () => {
  const out = readSegment({ segment: 'plan="pro"  # a comment' });
  assert.deepEqual(out, { text: 'plan = "pro"', json: { trait: { name: "plan", op: "eq", value: { string: "pro" } } } });
  assert.deepEqual(readSegment({ segment: out.json }), out);
  const e = thrown(() => readSegment({ segment: "plan =" }));
  assert.deepEqual([e.code, e.line, e.column], ["segment_syntax", 1, 7]);
});

test("personAudiences evaluates one person's messages at the given now", () => {
  const request = {
    audiences: [
      { key: "pro", segment: 'plan = "pro"' },
      { key: "recent", name: "Recent", segment: 'performed "Signed In" within 7d' },
      { key: "frequent", segment: "computed sign_ins >= 2" },
    ],
    computed_traits: [{ name: "sign_ins", kind: "count", event: "Signed In" }],
    messages: [
      { type: "track", event: "Signed In", userId: "u1", messageId: "s2", timestamp: "2026-02-27T10:00:00Z" },
      { type: "identify", userId: "u1", messageId: "i1", timestamp: "2026-02-01T10:00:00Z", traits: { plan: "pro" } },
      { type: "track", event: "Signed In", userId: "u1", messageId: "s1", timestamp: "2026-02-10T10:00:00Z" },
    ],
    now: "2026-03-01T12:00:00Z",
  };
  assert.deepEqual(personAudiences(request), {
    profiles: [{ profile: "prof:i1", audiences: { frequent: true, pro: true, recent: true } }],
    members: { frequent: ["prof:i1"], pro: ["prof:i1"], recent: ["prof:i1"] },
  });
  // no clock: the same request at a later `now` ends the window
  const later = personAudiences({ ...request, now: new Date("2026-03-20T12:00:00Z") });
  assert.deepEqual(later.members.recent, []);
  const cycle = thrown(() =>
    personAudiences({ ...request, audiences: [{ key: "a", segment: 'in audience "b"' }, { key: "b", segment: { in_audience: "a" } }] }),
  );
  assert.equal(cycle.code, "segment_cycle");
  assert.equal(cycle.field, null);
  const bad = thrown(() => personAudiences({ ...request, messages: [{ type: "track", event: "X", messageId: "m" }] }));
  assert.equal(bad.code, "missing_identity");
  assert.match(bad.message, /messages\[0\]/);
});

test("evaluateTable: one membership per row", () => {
  const out = evaluateTable({
    audiences: [
      { key: "pro", segment: 'plan = "pro"' },
      { key: "frequent", segment: { computed: { name: "orders", op: "ge", value: { number: "3" } } } },
    ],
    table: { columns: { plan: ["pro", "free", null], orders: [3, 5, 1] } },
  });
  assert.deepEqual(out, { pro: [true, false, false], frequent: [true, true, false] });
  const e = thrown(() => evaluateTable({ audiences: [{ key: "x", segment: 'performed "Signed In"' }], table: { columns: {} } }));
  assert.equal(e.code, "unknown_name");
});

test("Segment.parse refuses a non-string or a lone surrogate with a typed error", () => {
  const values = [5, true, 3.7, {}, [], ["a"], Symbol("s"), 10n, undefined, null, 'plan = "\ud800"', "\udc00"];
  for (const value of values) {
    const e = thrown(() => Segment.parse(value));
    assert.equal(e.name, "StratumError", `${String(typeof value)}: ${e}`);
    assert.equal(e.code, "invalid_json");
    assert.equal(e.field, "arguments[0]");
  }
  assert.match(thrown(() => Segment.parse(5)).message, /expected a string .*got number/);
  assert.match(thrown(() => Segment.parse('plan = "\ud800"')).message, /lone UTF-16 surrogate/);
  // The module still works, and a surrogate pair is valid text.
  assert.equal(Segment.parse('plan = "\ud83d\ude00"').toText(), 'plan = "😀"');
  const e = thrown(() => Segment.fromJson(new Map()));
  assert.equal([e.code, e.field].join(" "), "invalid_json arguments[0]");
});
