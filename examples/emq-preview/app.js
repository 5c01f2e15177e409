// The EMQ preview page: every keystroke builds an `emqPreview` request from the form
// (or the raw JSON) and renders the answer. No network call: the package is loaded
// from this origin and everything runs here.
import init, { Normalizer } from "./pkg/stratum_wasm.js";

/** [field, label, input type, placeholder] of every customer-information field. */
const FIELDS = [
  ["email", "Email", "text", "ann@example.com"],
  ["phone", "Phone", "tel", "+1 650 555 1212"],
  ["first_name", "First name", "text", "Ann"],
  ["last_name", "Last name", "text", "Lee"],
  ["city", "City", "text", "Menlo Park"],
  ["state", "State or region", "text", "CA"],
  ["zip", "Postal code", "text", "94025"],
  ["country", "Country", "text", "US"],
  ["birth_date", "Date of birth", "text", "1990-02-01"],
  ["gender", "Gender", "text", "f"],
  ["external_id", "Customer id", "text", "u-1234"],
  ["client_ip", "IP address", "text", "203.0.113.7"],
  ["user_agent", "User agent", "text", "Mozilla/5.0 …"],
  ["click_id", "Click id", "text", "fb.1.1700000000000.AbCd"],
  ["browser_id", "Browser id", "text", "fb.1.1700000000000.123"],
];
const LABELS = {
  email: "Email", click_id: "Click id", phone: "Phone", external_id: "Customer id",
  browser_id: "Browser id", birth_date: "Date of birth", country: "Country",
  ip_ua: "IP + user agent", first_name: "First name", last_name: "Last name",
  city: "City", zip: "Postal code", state: "State", gender: "Gender",
};

const $ = (id) => document.getElementById(id);
const form = $("event-form");
const rawJson = $("raw-json");
const jsonError = $("json-error");
let normalizer;
/** The event being previewed (the JSON view's `event`). */
let event = { user: {} };
/** The JSON view's error while its text does not parse (`null` when it does). */
let jsonBroken = null;
/** The pending write of the event into the JSON view. */
let syncTimer = 0;

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") e.textContent = v;
    // Through the CSSOM: the page's CSP allows no inline style attributes.
    else if (k === "width") e.style.width = v;
    else e.setAttribute(k, v);
  }
  e.append(...children);
  return e;
}

function buildFields() {
  const box = $("fields");
  for (const [field, label, type, placeholder] of FIELDS) {
    const id = `f-${field}`;
    const note = el("span", { id: `${id}-note`, class: "field-note", "aria-live": "polite" });
    box.append(el("div", { class: "row" },
      el("label", { for: id, text: label }),
      el("input", { id, name: field, type, inputmode: type === "tel" ? "tel" : field === "email" ? "email" : "text", placeholder: `e.g. ${placeholder}`, "aria-describedby": `${id}-note`, "data-field": field }),
      note));
  }
}

/** Whether `v` is a plain JSON object (not null, not an array). */
const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * `ev` with the form field `input` merged into its `user`: only that field changes,
 * every other field of the event (those the form does not show, such as
 * `mobile_ad_id`, or values it shows as they are, such as whitespace) is kept. An
 * emptied field is removed unless it holds a value the form cannot show (an
 * already hashed one from the JSON view); an `auto` value stays `auto`.
 */
function withField(ev, input) {
  const field = input.dataset.field;
  const user = isObject(ev.user) ? { ...ev.user } : {};
  const old = user[field];
  if (input.value !== "") user[field] = old?.auto !== undefined ? { auto: input.value } : { raw: input.value };
  else if (!old?.hashed) delete user[field];
  return { ...ev, user };
}

function formFromEvent() {
  const user = isObject(event.user) ? event.user : {};
  for (const input of form.querySelectorAll("input[data-field]")) {
    const v = user[input.dataset.field];
    const text = String(v?.raw ?? v?.auto ?? v?.date ?? "");
    if (input.value !== text) input.value = text;
  }
}

function options() {
  const revenue = $("roas-revenue").value.trim();
  const spend = $("roas-spend").value.trim();
  return revenue && spend ? { roas: { attributed_revenue: revenue, spend } } : {};
}

/** The request of the current state. */
export function request() {
  return { platform: $("platform").value, event, options: options() };
}

/** Computes the preview of the current state (no rendering). */
export function compute() {
  return normalizer.emqPreview(request());
}

/** Characters of a value shown in a table cell; the full text is in its `title`. */
const CELL_MAX = 256;

/** A table cell showing `text`, cut at `CELL_MAX` characters (the whole in `title`). */
function cell(text, attrs = {}) {
  const t = text ?? "";
  if (t.length <= CELL_MAX) return el("td", { ...attrs, text: t });
  return el("td", { ...attrs, class: `${attrs.class ?? ""} cut`.trim(), title: t, text: `${t.slice(0, CELL_MAX)}… (${t.length.toLocaleString("en")} characters)` });
}

function render(p) {
  $("preview-status").hidden = true;
  $("results").dataset.state = "current";
  $("score").textContent = p.score.score.toFixed(1);
  $("score-meter").value = p.score.score;

  const maxWeight = Math.max(...p.score.contributions.map((c) => c.weight));
  $("bars").replaceChildren(...p.score.contributions.map((c) => {
    const counted = c.state === "valid" || c.state === "pre_hashed";
    // The track is the key's potential (its weight); it is filled when the key counts.
    const fill = el("span", { width: counted ? "100%" : "0%" });
    const track = el("div", { class: "bar", width: `${(c.weight / maxWeight) * 100}%`, role: "presentation" }, fill);
    return el("li", { "data-key": c.key, "data-state": c.state },
      el("span", {}, LABELS[c.key] ?? c.key, " ", el("span", { class: "state", text: c.state.replace("_", " ") })),
      el("div", {}, track),
      el("span", { class: "pts", text: `${c.points.toFixed(2)}` }));
  }));

  $("fixes").replaceChildren(...(p.fixes.length ? p.fixes.map((f) => {
    const money = f.roas_impact ? ` (ROAS ${Number(f.roas_impact.roas_delta) >= 0 ? "+" : ""}${Number(f.roas_impact.roas_delta).toFixed(2)})` : "";
    return el("li", { "data-key": f.key },
      el("span", { class: "gain", text: `+${f.estimated_emq_gain.toFixed(2)}` }), " ",
      el("strong", { text: LABELS[f.key] ?? f.key }), `: ${f.remediation}${money}`);
  }) : [el("li", { text: "Nothing to fix: every key counts." })]));

  const notes = new Map(p.keys.map((k) => [k.field, k]));
  for (const input of form.querySelectorAll("input[data-field]")) {
    const k = notes.get(input.dataset.field);
    const note = $(`${input.id}-note`);
    const dropped = Boolean(k?.warning);
    input.setAttribute("aria-invalid", String(dropped));
    note.className = dropped ? "field-note" : "field-note ok";
    const text = dropped ? `Not sent: ${k.message}` : (k?.note ? `Sent, but ${k.note.replaceAll("_", " ")}` : "");
    if (note.textContent !== text) note.textContent = text;
  }

  $("keys").tBodies[0].replaceChildren(...p.keys.map((k) => el("tr", { "data-field": k.field },
    el("th", { scope: "row", text: k.field }),
    el("td", { text: k.key ?? "–" }),
    cell(k.normalized ?? (k.origin === "raw" ? k.value : "") ?? ""),
    k.warning
      ? el("td", { class: "dropped", text: `dropped (${k.warning})` })
      : cell(k.value, { class: "hash", "data-testid": `value-${k.field}` }))));
}

/**
 * No preview for the current state (the JSON does not parse, or the event is
 * refused): the score, bars, fixes and keys of an earlier event are cleared, never
 * left looking current.
 */
function clearResults(why) {
  $("results").dataset.state = "stale";
  $("score").textContent = "–";
  $("score-meter").value = 0;
  $("bars").replaceChildren();
  $("fixes").replaceChildren();
  $("keys").tBodies[0].replaceChildren();
  for (const input of form.querySelectorAll("input[data-field]")) {
    input.setAttribute("aria-invalid", "false");
    $(`${input.id}-note`).textContent = "";
  }
  $("preview-status").textContent = why;
  $("preview-status").hidden = false;
}

function showJsonError(text) {
  jsonError.textContent = text;
  jsonError.hidden = false;
  rawJson.setAttribute("aria-invalid", "true");
}

function hideJsonError() {
  jsonError.hidden = true;
  jsonError.textContent = "";
  rawJson.setAttribute("aria-invalid", "false");
}

const ROAS_INPUTS = { attributed_revenue: ["roas-revenue", "Attributed revenue"], spend: ["roas-spend", "Ad spend"] };

/** An error of the ROAS inputs (`options.roas.*` or `roas.*`), not of the event. */
const isRoasError = (e) => typeof e?.field === "string" && /^(options\.)?roas(\.|$)/.test(e.field);

/** Shows `e` (or nothing) at the ROAS inputs, marking the offending one invalid. */
function showRoasError(e) {
  const box = $("roas-error");
  const key = e ? Object.keys(ROAS_INPUTS).find((k) => e.field.endsWith(k)) : undefined;
  for (const [k, [id]] of Object.entries(ROAS_INPUTS)) {
    $(id).setAttribute("aria-invalid", String(Boolean(e) && (key === undefined || key === k)));
  }
  if (!e) {
    box.hidden = true;
    box.textContent = "";
    return;
  }
  const label = key ? ROAS_INPUTS[key][1] : "Estimated effect";
  // A text that is not an amount is a shape error; a refused amount says why.
  const why = e.code === "invalid_json" ? "not an amount (digits with an optional decimal point, e.g. 2500.50)" : e.message.replace(/^invalid config: /, "");
  box.textContent = `${label}: ${why}`;
  box.hidden = false;
}

/**
 * Previews and renders the current state. An event the package refuses is shown
 * under the JSON view and clears the results; a refused ROAS input is shown at the
 * ROAS inputs while the event's preview (without money estimates) stays.
 */
export function update() {
  let p;
  let roasError = null;
  try {
    try {
      p = compute();
    } catch (e) {
      if (!isRoasError(e)) throw e;
      roasError = e;
      p = normalizer.emqPreview({ ...request(), options: {} });
    }
  } catch (e) {
    showRoasError(roasError);
    showJsonError(e.field ? `${e.message} (at ${e.field})` : String(e.message ?? e));
    clearResults("No preview: the event is refused (see the error under the JSON view).");
    return;
  }
  showRoasError(roasError);
  if (jsonBroken === null) hideJsonError();
  else showJsonError(jsonBroken);
  render(p);
}

/**
 * Writes the event into the JSON view once typing in the form pauses or the field
 * is left: re-serialising a large event on every keystroke would
 * freeze the page. Never over text that does not parse (the person's own).
 */
function syncJson() {
  clearTimeout(syncTimer);
  if (document.body.dataset.jsonSynced !== "false" || jsonBroken !== null) return;
  const text = JSON.stringify(event, null, 2);
  if (rawJson.value !== text) rawJson.value = text;
  document.body.dataset.jsonSynced = "true";
}

function scheduleJsonSync() {
  document.body.dataset.jsonSynced = "false";
  clearTimeout(syncTimer);
  syncTimer = setTimeout(syncJson, 250);
}

function onForm(e) {
  if (e.target === rawJson) return;
  if (e.target.dataset?.field) {
    event = withField(event, e.target);
    if (jsonBroken === null) scheduleJsonSync();
  }
  update();
}

function onJson() {
  clearTimeout(syncTimer);
  document.body.dataset.jsonSynced = "true";
  let parsed;
  try {
    parsed = JSON.parse(rawJson.value);
    if (!isObject(parsed)) throw new Error("the event is a JSON object: {\"user\": {...}}");
  } catch (e) {
    // The text is the person's: it stays as typed (form edits do not overwrite it).
    jsonBroken = `Invalid JSON: ${e.message}. The form keeps the last valid event; its edits are not written here while this text does not parse.`;
    showJsonError(jsonBroken);
    clearResults("No preview: the event as JSON does not parse.");
    return;
  }
  jsonBroken = null;
  event = parsed;
  formFromEvent();
  update();
}

async function main() {
  buildFields();
  await init();
  normalizer = new Normalizer({ phone_region: { default: "US" } });
  form.addEventListener("input", onForm);
  form.addEventListener("change", onForm);
  form.addEventListener("submit", (e) => e.preventDefault());
  rawJson.addEventListener("input", onJson);
  // Leaving a form field writes its edit at once (before the JSON view takes focus).
  form.addEventListener("focusout", (e) => e.target.dataset?.field && syncJson());
  rawJson.value = JSON.stringify(event, null, 2);
  document.body.dataset.jsonSynced = "true";
  update();
  $("status").textContent = "Ready. Computed in this browser; nothing is sent anywhere.";
  document.body.dataset.ready = "true";
}

// For measurements from the console or a test: `stratumPreview.compute()`.
window.stratumPreview = { compute, update, request, syncJson };

main().catch((e) => {
  $("status").textContent = `Could not load the preview: ${e.message ?? e}`;
});
