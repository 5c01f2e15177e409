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

/**
 * The form's fields as the event's `user` (empty fields left out). A value the form
 * cannot show (an already hashed one from the JSON view) is kept while its field is
 * empty; an `auto` value stays `auto`.
 */
function eventFromForm() {
  const user = {};
  for (const input of form.querySelectorAll("input[data-field]")) {
    const field = input.dataset.field;
    const old = event.user?.[field];
    if (input.value.trim() !== "") user[field] = old?.auto !== undefined ? { auto: input.value } : { raw: input.value };
    else if (old?.hashed) user[field] = old;
  }
  return { ...event, user };
}

function formFromEvent() {
  for (const input of form.querySelectorAll("input[data-field]")) {
    const v = event.user?.[input.dataset.field];
    const text = v?.raw ?? v?.auto ?? v?.date ?? "";
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

function render(p) {
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
    note.textContent = dropped ? `Not sent: ${k.message}` : (k?.note ? `Sent, but ${k.note.replaceAll("_", " ")}` : "");
  }

  $("keys").tBodies[0].replaceChildren(...p.keys.map((k) => el("tr", { "data-field": k.field },
    el("th", { scope: "row", text: k.field }),
    el("td", { text: k.key ?? "–" }),
    el("td", { text: k.normalized ?? (k.origin === "raw" ? k.value : "") ?? "" }),
    k.warning
      ? el("td", { class: "dropped", text: `dropped (${k.warning})` })
      : el("td", { class: "hash", "data-testid": `value-${k.field}`, text: k.value }))));
}

/** Previews and renders the current state; errors go to the JSON view's alert. */
export function update() {
  try {
    render(compute());
    jsonError.hidden = true;
  } catch (e) {
    jsonError.textContent = e.field ? `${e.message} (at ${e.field})` : String(e.message ?? e);
    jsonError.hidden = false;
  }
}

function onForm(e) {
  if (e.target === rawJson) return;
  if (e.target.dataset?.field) {
    event = eventFromForm();
    rawJson.value = JSON.stringify(event, null, 2);
  }
  update();
}

function onJson() {
  try {
    const parsed = JSON.parse(rawJson.value);
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new Error("the event is a JSON object: {\"user\": {...}}");
    }
    event = parsed;
    formFromEvent();
    update();
  } catch (e) {
    jsonError.textContent = `Invalid JSON: ${e.message}`;
    jsonError.hidden = false;
  }
}

async function main() {
  buildFields();
  await init();
  normalizer = new Normalizer({ phone_region: { default: "US" } });
  form.addEventListener("input", onForm);
  form.addEventListener("change", onForm);
  form.addEventListener("submit", (e) => e.preventDefault());
  rawJson.addEventListener("input", onJson);
  rawJson.value = JSON.stringify(event, null, 2);
  update();
  $("status").textContent = "Ready. Computed in this browser; nothing is sent anywhere.";
  document.body.dataset.ready = "true";
}

// For measurements from the console or a test: `stratumPreview.compute()`.
window.stratumPreview = { compute, update, request };

main().catch((e) => {
  $("status").textContent = `Could not load the preview: ${e.message ?? e}`;
});
