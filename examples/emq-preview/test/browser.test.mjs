// The EMQ preview in a real browser (Debian's chromium, headless, driven by
// playwright-core): typing into the form shows the hashes of testdata/, the score
// and the fixes; no request leaves 127.0.0.1; the page works offline. Saves a
// screenshot to examples/emq-preview/artifacts/ and prints the per-keystroke and
// hashing figures.
//
//   node --test examples/emq-preview/test/   (after bindings/wasm/scripts/test.sh built pkg/)
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { serve } from "../serve.mjs";

const require = createRequire(new URL("../../../bindings/wasm/package.json", import.meta.url));
const { chromium } = require("playwright-core");

const root = fileURLToPath(new URL("../../../", import.meta.url));
const vectors = JSON.parse(readFileSync(join(root, "testdata/normalization.json"), "utf8")).cases;
const vector = (id) => vectors.find((c) => c.id === id);
const artifacts = fileURLToPath(new URL("../artifacts/", import.meta.url));

let server, browser, page, base, profile;
const requests = [];
// Console errors, such as a CSP refusal of an inline style.
const consoleErrors = [];

before(async () => {
  server = await serve(0);
  base = `http://127.0.0.1:${server.address().port}/`;
  profile = mkdtempSync(join(tmpdir(), "emq-preview-"));
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 1100 } });
  context.on("request", (r) => requests.push(r.url()));
  page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e));
  page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
  await page.goto(base);
  await page.waitForSelector("body[data-ready=true]", { timeout: 20000 });
  assert.deepEqual(errors, []);
});

after(async () => {
  await browser?.close();
  server?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

test("typing an event shows its hashes, score and fixes", async () => {
  const email = vector("pitfall3-gmail-meta");
  const phone = vector("d3-extension-dropped");
  const zip = vector("d14-zip4-meta");
  await page.getByLabel("Platform").selectOption("meta");
  await page.getByLabel("Email").pressSequentially(email.input.raw);
  await page.getByLabel("Phone").pressSequentially(phone.input.raw);
  await page.getByLabel("Postal code").pressSequentially(zip.input.raw);

  // The digests are those of testdata/ (Python's hashlib).
  assert.equal(await page.getByTestId("value-email").textContent(), email.expected.value);
  assert.equal(await page.getByTestId("value-phone").textContent(), phone.expected.value);
  assert.equal(await page.getByTestId("value-zip").textContent(), zip.expected.value);

  // Meta, Σ_R w = 14: email 3 + phone 2 + zip 1 → 10 · 6 / 14 = 4.29 → 4.3.
  assert.equal(await page.getByTestId("score").textContent(), "4.3");
  const bar = page.locator('#bars li[data-key="phone"]');
  assert.equal(await bar.getAttribute("data-state"), "valid");
  // Bars are drawn (widths set through the CSSOM, which the page's CSP allows):
  // phone (weight 2) fills two thirds of the widest key's track (weight 3).
  const widths = await bar.evaluate((li) => {
    const track = li.querySelector(".bar");
    return [track.querySelector("span").getBoundingClientRect().width, li.parentElement.querySelector('[data-key="email"] .bar').getBoundingClientRect().width];
  });
  assert.ok(Math.abs(widths[0] / widths[1] - 2 / 3) < 0.02, `${widths}`);
  assert.deepEqual(consoleErrors, []);
  // The largest fix is the click id: 10 · 3 / 14 = 2.14 points.
  const first = page.locator("#fixes li").first();
  assert.equal(await first.getAttribute("data-key"), "click_id");
  assert.match(await first.textContent(), /^\+2\.14 Click id: send `fbc`/);
  assert.equal(await page.locator('#fixes li[data-key="email"]').count(), 0);
});

test("an invalid value is flagged on its field and in the bars", async () => {
  await page.getByLabel("Customer id").pressSequentially("u-1");
  await page.getByLabel("IP address").pressSequentially("not an ip");
  const note = page.locator("#f-client_ip-note");
  assert.match(await note.textContent(), /^Not sent: /);
  assert.equal(await page.getByLabel("IP address").getAttribute("aria-invalid"), "true");
  // External id 2 more: 10 · 8 / 14 = 5.71 → 5.7; the IP counts nothing.
  assert.equal(await page.getByTestId("score").textContent(), "5.7");
  await page.getByLabel("IP address").fill("");
});

test("the keyboard alone changes the platform", async () => {
  await page.getByLabel("Platform").focus();
  await page.keyboard.press("ArrowDown"); // google
  assert.equal(await page.getByLabel("Platform").inputValue(), "google");
  // Google has no zip hash of its own here and its own model: the score is recomputed.
  const google = await page.evaluate(() => window.stratumPreview.compute().score.score);
  assert.equal(await page.getByTestId("score").textContent(), google.toFixed(1));
  await page.getByLabel("Platform").selectOption("meta");
});

test("editing the raw JSON updates the form and the score", async () => {
  const json = page.getByLabel("Event as JSON");
  await json.fill(JSON.stringify({ user: { email: { raw: "  alice@example.com \t" } } }));
  assert.equal(await page.getByLabel("Email").inputValue(), "  alice@example.com \t");
  assert.equal(await page.getByLabel("Phone").inputValue(), "");
  assert.equal(await page.getByTestId("value-email").textContent(), vector("trim").expected.value);
  // Email alone: 10 · 3 / 14 = 2.14 → 2.1.
  assert.equal(await page.getByTestId("score").textContent(), "2.1");
  await json.fill("{not json");
  assert.match(await page.locator("#json-error").textContent(), /^Invalid JSON/);
  await json.fill(JSON.stringify({ user: { email: { raw: 3 } } }));
  assert.match(await page.locator("#json-error").textContent(), /at event\.user/);
});

/** The JSON view's event, once the form's last edit has been written into it. */
async function jsonView() {
  await page.waitForSelector("body[data-json-synced=true]", { timeout: 5000 });
  return JSON.parse(await page.getByLabel("Event as JSON").inputValue());
}

test("a hashed value from the JSON view survives typing in the form", async () => {
  const digest = vector("trim").expected.value;
  await page.getByLabel("Event as JSON").fill(JSON.stringify({ user: { email: { hashed: { hex: digest } } } }));
  await page.getByLabel("Phone").pressSequentially("+1 650 555 1212");
  assert.equal(await page.getByTestId("value-email").textContent(), digest);
  const json = await jsonView();
  assert.deepEqual(json.user.email, { hashed: { hex: digest } });
  // Email 3 (pre-hashed, counted) + phone 2 → 10 · 5 / 14 = 3.6.
  assert.equal(await page.getByTestId("score").textContent(), "3.6");
});

test("a ROAS model shows each fix's estimated effect", async () => {
  await page.getByLabel("Event as JSON").fill(JSON.stringify({ user: { email: { raw: "ann@example.com" } } }));
  await page.getByLabel("Attributed revenue").pressSequentially("10000");
  await page.getByLabel("Ad spend").pressSequentially("2500");
  assert.match(await page.locator("#fixes li").first().textContent(), /\(ROAS \+\d+\.\d\d\)$/);
});

const results = async () => ({
  score: await page.getByTestId("score").textContent(),
  bars: await page.locator("#bars li").count(),
  fixes: await page.locator("#fixes li").count(),
  keys: await page.locator("#keys tbody tr").count(),
  status: await page.locator("#preview-status").isVisible(),
});

test("broken JSON typed in the JSON view is kept, and its error stays, while the form is edited", async () => {
  const json = page.getByLabel("Event as JSON");
  await json.fill(JSON.stringify({ user: { email: { raw: "ann@example.com" } } }));
  await json.press("End");
  await page.keyboard.type(" oops");
  const broken = await json.inputValue();
  assert.match(broken, / oops$/);
  const error = page.locator("#json-error");
  assert.match(await error.textContent(), /^Invalid JSON/);
  assert.equal(await json.getAttribute("aria-invalid"), "true");
  // Typing in the form previews the form's event but leaves the person's text alone.
  await page.getByLabel("Phone").pressSequentially("+1 650 555 1212");
  await page.waitForTimeout(400);
  assert.equal(await json.inputValue(), broken);
  assert.ok(await error.isVisible());
  assert.match(await error.textContent(), /^Invalid JSON/);
  assert.equal(await page.getByTestId("score").textContent(), "3.6");
  // Fixing the text (keyboard) makes it the event again.
  await json.focus();
  await json.press("End");
  for (let i = 0; i < 5; i++) await page.keyboard.press("Backspace");
  assert.ok(!(await error.isVisible()));
  assert.equal(await page.getByLabel("Phone").inputValue(), "");
  assert.equal(await page.getByTestId("score").textContent(), "2.1");
});

test("invalid JSON or a refused event clears the previous event's results", async () => {
  const json = page.getByLabel("Event as JSON");
  for (const [tail, keep] of [[" x", 0], ['{"user": null}', 1], ['{"user": {"email": "a@b.co"}}', 1]]) {
    await json.fill(JSON.stringify({ user: { email: { raw: "ann@example.com" } } }));
    assert.deepEqual(await results(), { score: "2.1", bars: 14, fixes: await page.locator("#fixes li").count(), keys: 1, status: false });
    if (keep) {
      await json.fill("");
      await page.keyboard.type(tail);
    } else {
      await json.press("End");
      await page.keyboard.type(tail);
    }
    assert.deepEqual(await results(), { score: "–", bars: 0, fixes: 0, keys: 0, status: true }, tail);
    assert.ok(await page.locator("#json-error").isVisible(), tail);
  }
  await json.fill(JSON.stringify({ user: { email: { raw: "ann@example.com" } } }));
  assert.equal((await results()).status, false);
});

test("typing in the form keeps the event's fields the form does not show", async () => {
  const event = {
    user: { email: { raw: "ann@example.com" }, mobile_ad_id: { raw: "38400000-8cf0-11bd-b23e-10b96e40000d" }, first_name: { raw: "   " }, city: { auto: "menlo park" } },
    event_id: "e-1",
    custom: { keep: true },
  };
  await page.getByLabel("Event as JSON").fill(JSON.stringify(event));
  assert.equal(await page.getByLabel("First name").inputValue(), "   ");
  await page.getByLabel("Phone").pressSequentially("+1 650 555 1212");
  await page.getByLabel("City").press("End");
  await page.keyboard.type("!");
  const after = await jsonView();
  assert.deepEqual(after, {
    ...event,
    user: { ...event.user, phone: { raw: "+1 650 555 1212" }, city: { auto: "menlo park!" } },
  });
  // Emptying a field removes it, and only it.
  await page.getByLabel("Phone").fill("");
  assert.deepEqual((await jsonView()).user, { ...event.user, city: { auto: "menlo park!" } });
});

test("a refused ROAS input is shown at the ROAS inputs, the event's preview stays", async () => {
  await page.getByLabel("Event as JSON").fill(JSON.stringify({ user: { email: { raw: "ann@example.com" } } }));
  const revenue = page.getByLabel("Attributed revenue");
  const spend = page.getByLabel("Ad spend");
  await revenue.fill("");
  await spend.fill("");
  await revenue.pressSequentially("10k");
  await spend.pressSequentially("2500");
  const roasError = page.locator("#roas-error");
  assert.ok(await roasError.isVisible());
  assert.match(await roasError.textContent(), /^Attributed revenue: not an amount/);
  assert.equal(await revenue.getAttribute("aria-invalid"), "true");
  assert.equal(await spend.getAttribute("aria-invalid"), "false");
  assert.match(await revenue.getAttribute("aria-describedby"), /roas-error/);
  assert.ok(!(await page.locator("#json-error").isVisible()));
  assert.equal(await page.getByTestId("score").textContent(), "2.1");
  assert.doesNotMatch(await page.locator("#fixes li").first().textContent(), /ROAS/);
  // A refused amount says why, at its own input.
  await revenue.fill("");
  await revenue.pressSequentially("10000");
  await spend.fill("");
  await spend.pressSequentially("-1");
  assert.match(await roasError.textContent(), /^Ad spend: .*must be positive/);
  assert.equal(await revenue.getAttribute("aria-invalid"), "false");
  assert.equal(await spend.getAttribute("aria-invalid"), "true");
  await spend.press("Backspace");
  await spend.press("Backspace");
  await spend.pressSequentially("2500");
  assert.ok(!(await roasError.isVisible()));
  assert.equal(await spend.getAttribute("aria-invalid"), "false");
  assert.match(await page.locator("#fixes li").first().textContent(), /\(ROAS \+\d+\.\d\d\)$/);
  await revenue.fill("");
  await spend.fill("");
});

test("long values wrap and very long ones are cut, without freezing the page", async () => {
  const fbc = `fb.1.1700000000000.${"AbCdEf0123".repeat(14)}`;
  assert.ok(fbc.length >= 158);
  await page.getByLabel("Event as JSON").fill(JSON.stringify({ user: { email: { raw: "ann@example.com" }, click_id: { raw: fbc } } }));
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 1280, `page is ${width} px wide`);
  // A megabyte in one field: the cell shows a cut of it (the whole in its title).
  const big = "Mozilla/5.0 ".repeat(90000);
  await page.evaluate((ua) => {
    const json = document.getElementById("raw-json");
    json.value = JSON.stringify({ user: { email: { raw: "ann@example.com" }, user_agent: { raw: ua } } });
    json.dispatchEvent(new Event("input", { bubbles: true }));
  }, big);
  const cellText = await page.locator('#keys tr[data-field="user_agent"] td').nth(1).textContent();
  assert.ok(cellText.length < 400, `${cellText.length}`);
  assert.ok((await page.evaluate(() => document.documentElement.scrollWidth)) <= 1280);
  const t0 = Date.now();
  await page.getByLabel("Phone").pressSequentially("+1");
  const perKey = (Date.now() - t0) / 2;
  const update = await page.evaluate(() => {
    const t = performance.now();
    window.stratumPreview.update();
    return performance.now() - t;
  });
  console.log(`# 1 MB user agent: ${perKey.toFixed(0)} ms per keystroke, ${update.toFixed(0)} ms per preview and DOM update`);
  assert.ok(perKey < 1000, `${perKey} ms per keystroke`);
  await page.getByLabel("Event as JSON").fill(JSON.stringify({ user: { email: { raw: "ann@example.com" } } }));
});

test("works offline and asks nothing of the network", async () => {
  await page.context().setOffline(true);
  await page.getByLabel("Event as JSON").fill(JSON.stringify({ user: { email: { raw: "ann@example.com" }, phone: { raw: "+1 650 555 1212" } } }));
  assert.equal(await page.getByTestId("score").textContent(), "3.6");
  await page.context().setOffline(false);
  const foreign = requests.filter((u) => !u.startsWith(base));
  assert.deepEqual(foreign, []);
  // The page, its script and style, the package's glue, its snippet (the argument
  // check) and module: nothing else.
  assert.ok(requests.some((u) => u.endsWith("/pkg/stratum_wasm_bg.wasm")));
  assert.ok(requests.length <= 6, requests.join("\n"));
  mkdirSync(artifacts, { recursive: true });
  await page.getByLabel("Event as JSON").fill(JSON.stringify({
    user: { email: { raw: "Ann@Example.com" }, phone: { raw: "+1 650 555 1212" }, first_name: { raw: "Ann" }, zip: { raw: "94025" }, client_ip: { raw: "not an ip" } },
  }, null, 2));
  await page.screenshot({ path: join(artifacts, "emq-preview.png"), fullPage: true });
});

test("figures: per-keystroke preview and hashing 100 k emails", async () => {
  const perKeystroke = await page.evaluate(() => {
    const p = window.stratumPreview;
    const time = (f, runs) => {
      // Warm up long enough for the engine to tier the WASM up to optimised code.
      for (let i = 0; i < 3000; i++) f();
      const t0 = performance.now();
      for (let i = 0; i < runs; i++) f();
      return ((performance.now() - t0) / runs) * 1000;
    };
    return { compute: time(p.compute, 10000), render: time(p.update, 1000) };
  });
  const hashing = await page.evaluate(async () => {
    const { Normalizer } = await import("/pkg/stratum_wasm.js");
    const n = new Normalizer({ phone_region: { default: "US" } });
    const emails = Array.from({ length: 100000 }, (_, i) => ` User.${i}+Tag@Example${i % 97}.COM `);
    const t0 = performance.now();
    const out = n.hashValues({ platform: "meta", field: "email", values: emails });
    const wasmMs = performance.now() - t0;
    // The same normalisation in JS (trim, NFC, lowercase), then SubtleCrypto.
    const enc = new TextEncoder();
    const hex = (b) => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, "0")).join("");
    const t1 = performance.now();
    const subtle = [];
    for (const e of emails) subtle.push(hex(await crypto.subtle.digest("SHA-256", enc.encode(e.trim().normalize("NFC").toLowerCase()))));
    const subtleMs = performance.now() - t1;
    const t2 = performance.now();
    const all = await Promise.all(emails.map((e) => crypto.subtle.digest("SHA-256", enc.encode(e.trim().normalize("NFC").toLowerCase())).then(hex)));
    const allMs = performance.now() - t2;
    const same = out.values.every((v, i) => v === subtle[i] && v === all[i]);
    n.free();
    return { wasmMs, subtleMs, allMs, same };
  });
  assert.ok(hashing.same, "the WASM digests equal SubtleCrypto's");
  const rate = (ms) => `${Math.round(100000 / (ms / 1000)).toLocaleString("en")} /s`;
  console.log(`# emq preview per keystroke: ${perKeystroke.compute.toFixed(1)} µs (compute), ${perKeystroke.render.toFixed(1)} µs (compute + render)`);
  console.log(`# hash 100k emails: wasm hashValues ${hashing.wasmMs.toFixed(0)} ms (${rate(hashing.wasmMs)}); ` +
    `subtle.digest await loop ${hashing.subtleMs.toFixed(0)} ms (${rate(hashing.subtleMs)}, ×${(hashing.subtleMs / hashing.wasmMs).toFixed(1)}); ` +
    `subtle.digest Promise.all ${hashing.allMs.toFixed(0)} ms (${rate(hashing.allMs)}, ×${(hashing.allMs / hashing.wasmMs).toFixed(1)})`);
});
