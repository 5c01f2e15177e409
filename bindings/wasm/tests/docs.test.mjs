// The JavaScript examples of docs/wasm.md, run against the Node build: the ```js
// blocks in order, as one module body (import lines give the package's exports).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { stratum } from "./load.mjs";

const doc = readFileSync(new URL("../../../docs/wasm.md", import.meta.url), "utf8");
const blocks = [...doc.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);

async function run(blocks) {
  const body = blocks.join("\n").replace(/^import .* from "\.\/pkg\/stratum_wasm\.js";$/gm, "");
  const AsyncFunction = (async () => {}).constructor;
  const names = Object.keys(stratum).filter((k) => /^[A-Za-z_$][\w$]*$/.test(k));
  const f = new AsyncFunction("assert", "init", ...names, body);
  await f(assert, async () => {}, ...names.map((k) => stratum[k]));
}

test("docs/wasm.md examples run", async () => {
  assert.ok(blocks.length >= 4, `${blocks.length} blocks`);
  await run(blocks);
});

test("the README's browser example runs", async () => {
  const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
  // The browser example (the README's other `js` block is the Node package's).
  const js = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]).filter((b) => b.includes("./pkg/stratum_wasm.js"));
  assert.equal(js.length, 1);
  await run([`${js[0]}\nassert.equal(score.score, 2.1);\nassert.equal(keys[0].key, "em");\nassert.equal(fixes[0].key, "click_id");`]);
});
