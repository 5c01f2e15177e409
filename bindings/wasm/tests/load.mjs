// Loads the `--target nodejs` build of the package (bindings/wasm/pkg/node).
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
export const stratum = require("../pkg/node/stratum_wasm.js");

const root = fileURLToPath(new URL("../../../", import.meta.url));
export const testdata = (path) => JSON.parse(readFileSync(`${root}testdata/${path}`, "utf8"));

/**
 * `expected` pins the keys it lists: objects are compared on `expected`'s keys (a
 * missing key is `null`), lists element by element, everything else exactly; as in
 * `bindings/shared/tests/vectors.rs`.
 */
export function mismatch(actual, expected, at = "") {
  if (expected !== null && typeof expected === "object" && !Array.isArray(expected)) {
    if (actual === null || typeof actual !== "object" || Array.isArray(actual)) {
      return `${at}: got ${JSON.stringify(actual)}, expected an object`;
    }
    for (const [k, v] of Object.entries(expected)) {
      const why = mismatch(actual[k] ?? null, v, `${at}.${k}`);
      if (why) return why;
    }
    return null;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) {
      return `${at}: got ${JSON.stringify(actual)}, expected ${expected.length} elements`;
    }
    for (let i = 0; i < expected.length; i++) {
      const why = mismatch(actual[i], expected[i], `${at}[${i}]`);
      if (why) return why;
    }
    return null;
  }
  return Object.is(actual, expected) || actual === expected
    ? null
    : `${at}: got ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`;
}

/** Runs `f` and returns what it threw (or fails when it did not throw). */
export function thrown(f) {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error("expected an error, got none");
}
