// Errors: typed `StratumError`s with the Rust codes and fields, for every kind of
// hostile input a page can pass; never a bare RuntimeError, and the module keeps
// working afterwards.
import { test } from "node:test";
import assert from "node:assert/strict";
import { stratum, thrown } from "./load.mjs";

const codes = stratum.errorCodes();
const n = new stratum.Normalizer({ phone_region: { default: "US" } });
const ok = { platform: "meta", event: { user: { email: { raw: "ann@example.com" } } } };

test("the code list is the surface's, snake_case, internal last", () => {
  assert.ok(codes.includes("invalid_json") && codes.includes("invalid_config"));
  assert.equal(codes.at(-1), "internal");
  assert.equal(new Set(codes).size, codes.length);
  for (const c of codes) assert.match(c, /^[a-z_]+$/);
});

test("a field error names its JSON path", () => {
  const e = thrown(() => n.emqScore({ platform: "meta", event: { user: { email: { raw: 3 } } } }));
  assert.ok(e instanceof Error);
  assert.equal(e.name, "StratumError");
  assert.equal(e.code, "invalid_json");
  assert.match(e.field, /^event\.user/);
  const r = thrown(() => n.emqReport({ platform: "meta", events: [], options: { roas: { attributed_revenue: "1", spend: "-1" } } }));
  assert.equal(r.code, "invalid_config");
  assert.equal(r.field, "roas.spend");
  const p = thrown(() => n.emqPreview({ ...ok, platform: "myspace" }));
  assert.equal(p.code, "invalid_json");
  assert.equal(p.field, "platform");
});

const cyclic = { platform: "meta" };
cyclic.self = cyclic;
const deep = JSON.parse("[".repeat(5000) + "]".repeat(5000));
const hostile = [
  undefined, null, 0, -0, NaN, Infinity, "", "{}", "x".repeat(1 << 20), true, [], [ok],
  Symbol("s"), () => 1, 10n, { platform: 10n }, cyclic, deep, { event: deep },
  new Map([["platform", "meta"]]), new Date(0), Object.create(null),
  { ...ok, extra: 1 }, { platform: "meta" }, { platform: "meta", event: null },
  { platform: "meta", event: { user: { email: { raw: "\ud800" } } } },
  { platform: "meta", event: { user: { nope: { raw: "x" } } } },
  { platform: "meta", event: { user: { email: { raw: "a@b.c".repeat(100000) } } } },
  { platform: "meta", event: { user: { birth_date: { date: "99999-01-01" } } } },
  { platform: "meta", event: { user: { phone: { raw: "+".repeat(5000) + "1".repeat(5000) } } } },
  { platform: "meta", event: { user: { email: { hashed: { hex: "zz" } } } } },
  { platform: "meta", events: [{ user: {} }], options: { roas: { attributed_revenue: "1e400", spend: "0" } } },
  { platform: "meta", event: { user: {} }, events: [{}], options: { roas: { attributed_revenue: "79228162514264337593543950335", spend: "0.0000000000000000000000000001" } } },
  { platform: "google", now: "not a time", events: [] },
  { platform: "meta", now: "+275760-09-13T00:00:00Z", events: [{ event_name: "P", event_time: "-262143-01-01T00:00:00Z", action_source: "website" }] },
  { signals: { scope: { tenant: "" } }, now: "2026-03-01T00:00:00Z", config: { weights: { emq: NaN } } },
  { signals: { scope: { tenant: "a" }, emq: { observed_at: "2026-03-01T00:00:00Z", score: 1e308 } }, now: "2026-03-01T00:00:00Z" },
  { body: "{".repeat(100000), received_at: "2026-03-01T00:00:00Z" },
  { body: "\u0000", received_at: "2026-03-01T00:00:00Z" },
];

test("hostile input gives a typed error or a result, never a crash", () => {
  const calls = [
    (r) => n.emqScore(r), (r) => n.emqReport(r), (r) => n.emqPreview(r), (r) => n.normalize(r),
    (r) => n.hashValues(r), (r) => n.buildPayloads(r), (r) => n.buildAudience(r),
    (r) => stratum.healthScore(r), (r) => stratum.gatePreview(r), (r) => stratum.parseMessage(r),
    (r) => new stratum.Normalizer(r),
  ];
  let errors = 0;
  for (const input of hostile) {
    for (const call of calls) {
      try {
        call(input);
      } catch (e) {
        errors++;
        assert.ok(e instanceof Error, String(e));
        assert.equal(e.name, "StratumError", `${e.name}: ${e.message}`);
        assert.ok(codes.includes(e.code), e.code);
        assert.notEqual(e.code, "internal", e.message);
        assert.ok(e.field === null || typeof e.field === "string");
        assert.ok(e.message.length > 0);
      }
    }
  }
  assert.ok(errors > hostile.length * 5);
  // The module still answers after every failure.
  assert.equal(n.emqScore(ok).score, 2.1);
});

test("a ROAS model whose estimates would overflow is refused by name", () => {
  const e = thrown(() => n.emqPreview({
    ...ok,
    options: { roas: { attributed_revenue: "79228162514264337593543950335", spend: "0.0000000000000000000000000001" } },
  }));
  assert.equal(e.code, "invalid_config");
  assert.equal(e.field, "roas.spend");
});

test("a Date is read as its RFC 3339 time", () => {
  const report = stratum.healthScore({ signals: { scope: { tenant: "acme" } }, now: new Date("2026-03-01T12:05:00Z") });
  assert.equal(report.computed_at.slice(0, 19), "2026-03-01T12:05:00");
});

test("a freed normalizer is refused with an Error", () => {
  const m = new stratum.Normalizer();
  m.free();
  assert.throws(() => m.emqScore(ok), Error);
});

test("a freed object throws the documented plain Error", () => {
  // docs/wasm.md, "Memory: free()".
  const freed = (e) => e instanceof Error && e.message === "null pointer passed to rust" && e.code === undefined;
  const s = stratum.Segment.parse('plan = "pro"');
  s.free();
  assert.throws(() => s.toText(), freed);
  assert.throws(() => s.free(), freed);
  const m = new stratum.Normalizer();
  m[Symbol.dispose]();
  assert.throws(() => m.emqScore(ok), freed);
  assert.equal(n.emqScore(ok).score, 2.1);
});

test("values JSON would silently change are refused by path, never read as absent", () => {
  const now = "2026-03-01T12:00:00Z";
  const purchase = (extra) => ({ event_name: "Purchase", event_time: now, action_source: "email", user: { email: { raw: "ann@example.com" } }, ...extra });
  const cases = [
    [() => n.buildPayloads({ platform: "meta", now, events: [purchase({ value: parseFloat(""), currency: "usd" })] }), "arguments[0].events[0].value", /NaN is not a finite number/],
    [() => n.buildPayloads({ platform: "meta", now, events: [purchase({ value: Infinity, currency: "usd" })] }), "arguments[0].events[0].value", /Infinity is not a finite number/],
    [() => n.buildPayloads({ platform: "meta", now, events: [purchase({ event_id: NaN })] }), "arguments[0].events[0].event_id", /NaN/],
    [() => n.buildPayloads({ platform: "meta", now: new Date(""), events: [] }), "arguments[0].now", /invalid Date/],
    [() => new stratum.Normalizer({ today: new Date("") }), "arguments[0].today", /invalid Date/],
    [() => new stratum.Normalizer({ phone_region: NaN }), "arguments[0].phone_region", /NaN/],
    [() => n.buildAudience({ platform: "meta", members: [], options: { batch_size: NaN } }), "arguments[0].options.batch_size", /NaN/],
    [() => n.normalize({ platform: "meta", values: [{ field: "phone", value: { raw: "650 555 1212" }, country: NaN }] }), "arguments[0].values[0].country", /NaN/],
    [() => n.emqScore({ platform: "meta", event: { user: new Map([["email", { raw: "ann@example.com" }]]) } }), "arguments[0].event.user", /a Map is not JSON data/],
    [() => n.emqScore({ platform: "meta", event: { user: { email: { raw: new Set() } } } }), "arguments[0].event.user.email.raw", /a Set/],
    [() => n.hashValues({ platform: "meta", field: "email", values: ["a@b.co", undefined] }), "arguments[0].values[1]", /undefined is not data/],
    [() => n.hashValues({ platform: "meta", field: "email", values: new Uint8Array(2) }), "arguments[0].values", /Uint8Array/],
    [() => n.emqScore({ platform: "meta", event: { user: { email: { raw: "\ud800" } } } }), "arguments[0].event.user.email.raw", /lone UTF-16 surrogate/],
    [() => n.emqScore({ platform: "meta", event: { user: {}, event_id: 1n } }), "arguments[0].event.event_id", /BigInt/],
    [() => n.emqScore({ platform: "meta", event: { user: {}, event_id: () => 1 } }), "arguments[0].event.event_id", /a function is not data/],
    [() => stratum.healthScore({ signals: { scope: { tenant: "a" }, emq: { observed_at: now, score: NaN } }, now }), "arguments[0].signals.emq.score", /NaN/],
  ];
  for (const [call, field, message] of cases) {
    const e = thrown(call);
    assert.equal(e.name, "StratumError", String(e));
    assert.equal(e.code, "invalid_json", e.message);
    assert.equal(e.field, field, e.message);
    assert.match(e.message, message);
    assert.ok(e.message.startsWith("invalid "), e.message);
  }
  // Valid values of the same kinds still pass: a Date, a boxed number, a class
  // instance written field by field, a Segment (its own toJSON), undefined fields.
  assert.equal(n.emqScore({ platform: "meta", event: { user: { email: { raw: "ann@example.com" }, phone: undefined } } }).score, 2.1);
  class User { constructor() { this.email = { raw: "ann@example.com" }; } }
  assert.equal(n.emqScore({ platform: "meta", event: { user: new User() } }).score, 2.1);
  const built = n.buildPayloads({ platform: "meta", now: new Date(now), events: [purchase({ value: 12.5, currency: "usd" })] });
  assert.deepEqual(built.rejected, []);
  assert.equal(built.requests[0].data[0].custom_data.value, 12.5);
  assert.equal(stratum.readSegment({ segment: stratum.Segment.parse('plan = "pro"') }).text, 'plan = "pro"');
});
